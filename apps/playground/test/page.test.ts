import { createRegistry } from '@sparseland/core';
import { estimators } from '@sparseland/estimators';
import { modelFiles } from '@sparseland/fixtures';
import { patterns } from '@sparseland/patterns';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type OpenedPage, open, screenshot, waitForNumbers } from './browser.js';

// The page as a visitor meets it: the default deep link (tinybooks-2k over 2,048 tokens of Pride and Prejudice,
// methods A and B side by side), then the same page on a phone, keyboard use and validation at the field.
let browser: Browser;
let opened: OpenedPage;
const url = inject('playgroundUrl');

beforeAll(async () => {
  browser = await launch();
  opened = await open(browser, url);
  await waitForNumbers(opened.page, 'A');
  await waitForNumbers(opened.page, 'B');
});

afterAll(async () => {
  await browser?.close();
});

describe('the playground page', () => {
  it('loads the model, draws both overlays and their numbers, with no console error and no request leaving 127.0.0.1', async () => {
    const { page, errors, external } = opened;
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.locator('.model-info').textContent()).toContain('passage of 2048 tokens');
    expect(await page.locator('.metrics td[data-slot="A"][data-metric="recallMean"][data-head="layer"]').count()).toBe(1);
    await page.waitForFunction(() => /layers captured/.test(document.querySelector('.model-panel .progress-label')?.textContent ?? ''));
    await page.waitForFunction(() => !/probing/.test(document.querySelector('.backends')?.textContent ?? ''));
    await screenshot(page, 'main-1280x800');
    await screenshot(page, 'main-1280x800-viewport', false);
    expect(errors).toEqual([]);
    expect(external).toEqual([]);
  });

  it('offers every registered pattern and estimator, with forms generated from their schemas', async () => {
    const { page } = opened;
    const registry = createRegistry({ plugins: [patterns, estimators] });
    const offered = await page.locator('#method-a option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    for (const d of registry.describe()) expect(offered).toContain(d.name);
    // a-shape's form: one field per parameter, with the paper's defaults named.
    const fields = await page.locator('.slot-a .field label').allTextContents();
    const aShape = registry.describe().find((d) => d.name === 'a-shape')?.params as { properties?: object } | undefined;
    expect(fields).toEqual(Object.keys(aShape?.properties ?? {}));
    expect(await page.locator('#a-sink ~ small').textContent()).toContain('(default 128)');
  });

  it('shows a validation error at the field and keeps the last valid method', async () => {
    const { page } = opened;
    const before = await page.locator('figure.heatmap').first().getAttribute('data-recipe');
    await page.fill('#a-local', '0');
    await expect.poll(() => page.locator('#a-local-error').textContent()).toMatch(/>=\s*1|too small/i);
    expect(await page.locator('#a-local').getAttribute('aria-invalid')).toBe('true');
    await page.waitForTimeout(300);
    expect(await page.locator('figure.heatmap').first().getAttribute('data-recipe')).toBe(before);
    await page.fill('#a-local', '256');
    await expect.poll(() => page.locator('#a-local-error').textContent()).toBe('');
  });

  it('is keyboard reachable: the map zooms with + and resets with 0, and the zoom is in the URL', async () => {
    const { page } = opened;
    await page.focus('figure.heatmap');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    await expect.poll(() => page.evaluate(() => location.hash)).toMatch(/view=\d+%2C\d+%2C\d+%2C\d+/);
    // 64 tokens wide: the passage under the map, tokens on the axes.
    await expect.poll(() => page.locator('figure.heatmap .passage').first().textContent()).toMatch(/keys \d+–\d+/);
    await screenshot(page, 'zoomed-to-tokens', false);
    await page.keyboard.press('0');
    await expect.poll(() => page.evaluate(() => location.hash)).not.toMatch(/view=/);
  });

  it('restores the whole state from a deep link', async () => {
    const link = `#model=stories260K&n=128&layer=2&head=3&a=${encodeURIComponent(JSON.stringify({ method: 'sliding-window', params: { window: 32 } }))}&b=none`;
    const other = await open(browser, url, link);
    await waitForNumbers(other.page, 'A');
    expect(await other.page.locator('#layer').inputValue()).toBe('2');
    expect(await other.page.locator('#head').inputValue()).toBe('3');
    expect(await other.page.locator('#method-a').inputValue()).toBe('sliding-window');
    expect(await other.page.locator('#a-window').inputValue()).toBe('32');
    expect(await other.page.locator('figure.heatmap').nth(1).isHidden()).toBe(true);
    expect(other.errors).toEqual([]);
    await other.context.close();
  });

  it('runs a llama2.c checkpoint and tokenizer the user gives it (stories260K from the fixtures, as files)', async () => {
    const files = modelFiles('stories260K');
    const other = await open(browser, url, '#n=64&b=none');
    await waitForNumbers(other.page, 'A');
    await other.page.selectOption('#model', 'file');
    await other.page.setInputFiles('#checkpoint-file', files.checkpoint);
    await other.page.setInputFiles('#tokenizer-file', files.tokenizer);
    await expect
      .poll(() => other.page.locator('.model-info').textContent(), { timeout: 120_000 })
      .toMatch(/^stories260K\.bin: 5 layers × 8 query \/ 4 kv heads/);
    await waitForNumbers(other.page, 'A');
    // The link names the model's source; the files themselves stay in the tab (a link to them loads the default).
    expect(await other.page.evaluate(() => location.hash)).toMatch(/model=file/);
    expect(other.errors).toEqual([]);
    await other.context.close();
  });

  it('fetches the model files once: a second visit reads them from Cache Storage', async () => {
    const other = await open(browser, url, '#n=64&b=none');
    const fetched: string[] = [];
    other.context.on('requestfinished', (r) => {
      if (r.url().endsWith('.bin')) fetched.push(r.url());
    });
    await waitForNumbers(other.page, 'A');
    const cachedModelFiles = () =>
      other.page.evaluate(async () =>
        (await (await caches.open('sparseland-playground-assets-v1')).keys()).map((r) => r.url).filter((u) => u.endsWith('.bin')),
      );
    await expect.poll(() => cachedModelFiles().then((c) => c.length), { timeout: 60_000 }).toBe(2);
    const firstVisit = fetched.length;
    expect(firstVisit, 'the first visit downloads the checkpoint and the tokenizer').toBeGreaterThanOrEqual(2);
    await other.page.reload();
    await waitForNumbers(other.page, 'A');
    expect(fetched.length).toBe(firstVisit);
    await other.context.close();
  });

  it('is readable on a phone (one column, nothing wider than the screen)', async () => {
    const phone = await open(browser, url, '#n=256', { width: 390, height: 844 });
    await waitForNumbers(phone.page, 'A');
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(phone.page, 'phone-390x844', false);
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });
});
