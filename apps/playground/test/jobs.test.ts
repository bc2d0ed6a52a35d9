import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileRecipe, createRegistry, parseRecipe, type Recipe } from '@sparseland/core';
import { estimators } from '@sparseland/estimators';
import { patterns } from '@sparseland/patterns';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type OpenedPage, open, screenshot, waitForNumbers } from './browser.js';

// A sweep and the per-head search finish in their worker and produce recipes that survive export and import and
// then run as method A or B. stories260K over 128 tokens keeps this quick.
let browser: Browser;
let opened: OpenedPage;
const downloads = mkdtempSync(join(tmpdir(), 'playground-recipes-'));
const registry = createRegistry({ plugins: [patterns, estimators] });

beforeAll(async () => {
  browser = await launch();
  opened = await open(browser, inject('playgroundUrl'), '#model=stories260K&n=128&b=none');
  await waitForNumbers(opened.page, 'A');
});

afterAll(async () => {
  await browser?.close();
});

const editorRecipe = (page: Page) =>
  page
    .locator('#recipe-json')
    .inputValue()
    .then((t) => JSON.parse(t) as Recipe);

/** Exports the editor's recipe, clears the editor, imports the file again; returns the exported and imported recipes. */
async function roundTrip(page: Page, name: string): Promise<{ exported: Recipe; imported: Recipe }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#recipe-export')]);
  expect(download.suggestedFilename()).toBe('sparseland-recipe.json');
  const file = join(downloads, `${name}.json`);
  await download.saveAs(file);
  const exported = JSON.parse(readFileSync(file, 'utf8')) as Recipe;
  await page.fill('#recipe-json', '');
  await page.setInputFiles('#recipe-import', file);
  await expect.poll(() => page.locator('#recipe-message').textContent()).toBe('valid recipe');
  return { exported, imported: await editorRecipe(page) };
}

describe('sweep and search', () => {
  it('a density sweep finishes with a curve; a point becomes a recipe that round-trips and runs as A', async () => {
    const { page } = opened;
    await page.selectOption('#sweep-method', 'sliding-window');
    await page.fill('#sweep-densities', '0.25, 0.5');
    await page.click('#sweep-run');
    await page.waitForSelector('.sweep[data-done="true"], .sweep .error:not(:empty)', { timeout: 240_000 });
    expect(await page.locator('.sweep .error').textContent()).toBe('');
    expect(await page.locator('.sweep .chart svg').count()).toBe(1);
    const rows = await page.locator('.sweep-points tbody tr').count();
    expect(rows).toBeGreaterThanOrEqual(1);
    await page.click('#sweep-point-0');
    const fromSweep = await editorRecipe(page);
    expect(fromSweep).toMatchObject({ method: 'sliding-window', params: { window: expect.any(Number) } });
    const { exported, imported } = await roundTrip(page, 'sweep');
    expect(exported).toEqual(fromSweep);
    expect(imported).toEqual(fromSweep);
    await page.click('#recipe-to-a');
    await page.waitForFunction(
      (r) => document.querySelector<HTMLElement>('figure.heatmap')?.dataset['recipe'] === r,
      JSON.stringify(imported),
    );
    await waitForNumbers(page, 'A');
    expect(await page.locator('#method-a').inputValue()).toBe('sliding-window');
    await screenshot(page, 'sweep');
    expect(opened.errors).toEqual([]);
  });

  it('the per-head search writes a per-layer / per-head recipe within its budget that round-trips and runs as B', async () => {
    const { page } = opened;
    // An impossible budget is refused with the library's reason (at 128 tokens the candidates keep half the pairs).
    await page.fill('#search-budget', '0.1');
    await page.click('#search-run');
    await expect
      .poll(() => page.locator('.search .error').textContent(), { timeout: 120_000 })
      .toMatch(/E_BUDGET.*below what the cheapest candidates cost/);
    await page.fill('#search-budget', '0.7');
    await page.click('#search-run');
    await page.waitForSelector('.search[data-done="true"], .search .error:not(:empty)', { timeout: 240_000 });
    expect(await page.locator('.search .error').textContent()).toBe('');
    const found = await editorRecipe(page);
    const parsed = parseRecipe(found);
    expect(Object.keys(parsed.layers ?? {}).length).toBeGreaterThan(0);
    const density = Number(/density (\d\.\d+)/.exec((await page.locator('.search-summary').textContent()) ?? '')?.[1]);
    expect(density).toBeGreaterThan(0);
    expect(density).toBeLessThanOrEqual(0.7);
    const { exported, imported } = await roundTrip(page, 'search');
    expect(exported).toEqual(found);
    expect(imported).toEqual(found);
    await page.click('#recipe-to-b');
    await page.waitForFunction(
      (r) => document.querySelectorAll<HTMLElement>('figure.heatmap')[1]?.dataset['recipe'] === r,
      JSON.stringify(imported),
    );
    await waitForNumbers(page, 'B');
    expect(await page.locator('#method-b').inputValue()).toBe('(recipe)');
    await screenshot(page, 'search');
    expect(opened.errors).toEqual([]);
    // The library reads the exported file as the same recipe, and it compiles against the plugins.
    expect(parseRecipe(imported)).toEqual(parsed);
    expect(() => compileRecipe(imported, registry)).not.toThrow();
  });

  it('a running job can be cancelled', async () => {
    const { page } = opened;
    await page.selectOption('#sweep-method', 'block-topk');
    await page.fill('#sweep-densities', '0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8');
    await page.click('#sweep-run');
    // Clicked in the page in the same turn that finds it enabled: a job that ends first cannot race the click.
    // That may be while the panel still gathers the model's layers or while the worker runs: both must cancel.
    await page.waitForFunction(() => {
      const cancel = document.querySelector<HTMLButtonElement>('#sweep-cancel');
      if (!cancel || cancel.disabled) return false;
      cancel.click();
      return true;
    });
    await expect.poll(() => page.locator('.sweep .progress-label').textContent()).toBe('cancelled');
    expect(await page.locator('#sweep-run').isDisabled()).toBe(false);
    expect(opened.errors).toEqual([]);
  });
});
