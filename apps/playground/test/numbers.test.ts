import { createCpuBackend } from '@sparseland/backend-cpu';
import { createRegistry, type MethodRecipe } from '@sparseland/core';
import { estimators } from '@sparseland/estimators';
import { collectItems, evaluateMethods, realTraceWorkload, type Workload } from '@sparseland/eval';
import { patterns } from '@sparseland/patterns';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type OpenedPage, open, recipeParam, screenshot, shownNumbers, waitForNumbers } from './browser.js';

// What the page shows must be what the library computes in Node for the same model, text and method: eval's
// evaluateMethods on realTraceWorkload (tinybooks-2k, the first 256 tokens of Pride and Prejudice), every query
// row measured, seed 0, on the CPU backend. The traces are captured separately in Node and in Chromium, so values
// agree within float tolerance; masks of these methods agree exactly (same density).
const POSITIONS = 256;
const LAYER = 1;
const A: MethodRecipe = { method: 'a-shape', params: { sink: 4, local: 64 } };
const B: MethodRecipe = { method: 'vertical-slash', params: { vertical: 16, slash: 32 } };
const PICKED: MethodRecipe = { method: 'sliding-window', params: { window: 48 } };
const METRICS = ['density', 'recallMean', 'recallMin', 'outputError', 'flopsEstimate', 'flopsAttend'] as const;

let browser: Browser;
let opened: OpenedPage;
let workload: Workload;
const registry = createRegistry({ plugins: [patterns, estimators] });
const backend = await createCpuBackend();

/** evaluateMethods' per-head results for one method on LAYER. */
async function inNode(recipe: MethodRecipe) {
  const report = await evaluateMethods({ methods: [{ label: 'm', recipe }], workloads: [workload], registry, backend, recallRows: 'all' });
  return (report.results[0]?.heads ?? []).filter((h) => h.layer === LAYER);
}

/** Compares every shown number with Node's: exact values within tolerance, and the 4-decimal text as shown. */
async function expectSameNumbers(slot: 'A' | 'B', recipe: MethodRecipe): Promise<void> {
  const node = await inNode(recipe);
  const shown = await shownNumbers(opened.page, slot);
  expect(node.length).toBe(4);
  for (const head of node) {
    const want: Record<(typeof METRICS)[number], number> = {
      density: head.density,
      recallMean: head.recallMean,
      recallMin: head.recallMin,
      outputError: head.outputError,
      flopsEstimate: head.flops.estimate,
      flopsAttend: head.flops.attend,
    };
    for (const metric of METRICS) {
      const got = shown[metric]?.[String(head.head)];
      expect(got, `${slot} head ${head.head} ${metric} is shown`).toBeDefined();
      const tolerance =
        metric === 'density' || metric === 'flopsAttend' ? 0 : metric === 'flopsEstimate' ? 1e-6 * Math.max(1, want[metric]) : 2e-4;
      expect(Math.abs((got?.value ?? Number.NaN) - want[metric]), `${slot} head ${head.head} ${metric}`).toBeLessThanOrEqual(tolerance);
    }
    // The text on screen is the same number to 4 decimals (one unit of rounding either way).
    expect(Math.abs(Number(shown['recallMean']?.[String(head.head)]?.text) - head.recallMean)).toBeLessThanOrEqual(6e-5 + 2e-4);
  }
}

beforeAll(async () => {
  workload = await realTraceWorkload({ model: 'tinybooks-2k', positions: POSITIONS, backend });
  await collectItems(workload);
  browser = await launch();
  opened = await open(browser, inject('playgroundUrl'), `#n=${POSITIONS}&layer=${LAYER}&a=${recipeParam(A)}&b=${recipeParam(B)}`);
  await waitForNumbers(opened.page, 'A');
  await waitForNumbers(opened.page, 'B');
});

afterAll(async () => {
  await browser?.close();
  await backend.dispose();
});

describe('numbers on the page equal the library in Node', () => {
  it('a pattern (A) and an estimator (B) on layer 1, per head', async () => {
    await expectSameNumbers('A', A);
    await expectSameNumbers('B', B);
    expect(opened.errors).toEqual([]);
  });

  it('choosing a method in the form redraws the overlay and the numbers follow the library', async () => {
    const { page } = opened;
    const heatmap = page.locator('figure.heatmap').first();
    const keyBefore = await heatmap.getAttribute('data-key');
    const pixelsBefore = await heatmap.locator('canvas').evaluate((c) => (c as HTMLCanvasElement).toDataURL());
    await page.selectOption('#method-a', 'sliding-window');
    await page.fill('#a-window', '48');
    await page.waitForFunction(
      (recipe) => {
        const f = document.querySelector<HTMLElement>('figure.heatmap');
        return f?.dataset['recipe'] === recipe && f.dataset['numbers'] === f.dataset['key'];
      },
      JSON.stringify(PICKED),
      { timeout: 120_000 },
    );
    expect(await heatmap.getAttribute('data-key')).not.toBe(keyBefore);
    expect(await heatmap.locator('canvas').evaluate((c) => (c as HTMLCanvasElement).toDataURL())).not.toBe(pixelsBefore);
    expect(await page.evaluate(() => decodeURIComponent(location.hash))).toContain(JSON.stringify(PICKED));
    await expectSameNumbers('A', PICKED);
    await screenshot(page, 'method-picked', false);
    expect(opened.errors).toEqual([]);
  });
});
