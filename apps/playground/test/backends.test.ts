import type { MethodRecipe } from '@sparseland/core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type OpenedPage, open, recipeParam, screenshot, shownNumbers, waitForNumbers } from './browser.js';

// gpu.js in webgl2 and webgpu (SwiftShader in the packaged Chromium) must build the same masks as the CPU backend:
// two estimators whose selection runs on the backend (MInference's last-queries probe, MoBA-style pooled block
// scores), on every head of a layer of tinybooks-2k. The page shows a fingerprint of each layer's whole mask.
const A: MethodRecipe = { method: 'vertical-slash', params: { vertical: 16, slash: 32 } };
const B: MethodRecipe = { method: 'block-topk', params: { topK: 2 } };
const base = `#n=256&layer=2&a=${recipeParam(A)}&b=${recipeParam(B)}`;

let browser: Browser;
let opened: OpenedPage;
const seen: Record<string, { hashes: string[]; recall: number[]; backend: string[] }> = {};

async function runOn(backend: 'cpu' | 'webgl2' | 'webgpu'): Promise<void> {
  const { page } = opened;
  await page.evaluate((hash) => {
    location.hash = hash;
  }, `${base}&backend=${backend}`);
  const label = backend === 'cpu' ? 'on cpu (wasm)' : `on gpujs (${backend})`;
  await page.waitForFunction(
    (l) => {
      const timings = [...document.querySelectorAll('.metrics .timing')];
      return timings.length === 2 && timings.every((t) => t.textContent?.includes(l));
    },
    label,
    { timeout: 240_000 },
  );
  await waitForNumbers(page, 'A');
  await waitForNumbers(page, 'B');
  const hashes = await page.locator('.metrics .timing').evaluateAll((ts) => ts.map((t) => (t as HTMLElement).dataset['maskHash'] ?? ''));
  const timings = await page.locator('.metrics .timing').allTextContents();
  const recall = [
    (await shownNumbers(page, 'A'))['recallMean']?.['layer']?.value ?? Number.NaN,
    (await shownNumbers(page, 'B'))['recallMean']?.['layer']?.value ?? Number.NaN,
  ];
  seen[backend] = { hashes, recall, backend: timings };
}

beforeAll(async () => {
  browser = await launch();
  opened = await open(browser, inject('playgroundUrl'), base);
  await waitForNumbers(opened.page, 'A');
  await opened.page.waitForFunction(() => !/probing/.test(document.querySelector('.backends')?.textContent ?? ''), undefined, {
    timeout: 240_000,
  });
});

afterAll(async () => {
  await browser?.close();
});

describe('backends in headless Chromium', () => {
  it('the GPU modes are probed for real and offered', async () => {
    const { page } = opened;
    for (const mode of ['webgl2', 'webgpu']) {
      expect(await page.locator(`.backend[data-backend="${mode}"]`).getAttribute('data-ok')).toBe('true');
      expect(await page.locator(`#backend-${mode}`).isDisabled()).toBe(false);
    }
  });

  for (const backend of ['cpu', 'webgl2', 'webgpu'] as const) {
    it(`runs both estimators on ${backend}`, async () => {
      await runOn(backend);
      expect(seen[backend]?.hashes).toHaveLength(2);
      expect(await opened.page.locator(`#backend-${backend}`).isChecked()).toBe(true);
    });
  }

  it('webgl2 and webgpu build the same masks as the CPU backend (same fingerprints, same recall)', async () => {
    const cpu = seen['cpu'];
    expect(cpu?.hashes.every((h) => /^[0-9a-f]{8}$/.test(h))).toBe(true);
    for (const gpu of ['webgl2', 'webgpu']) {
      expect(seen[gpu]?.hashes, gpu).toEqual(cpu?.hashes);
      seen[gpu]?.recall.forEach((r, i) => {
        expect(Math.abs(r - (cpu?.recall[i] ?? Number.NaN)), `${gpu} recall of ${i ? 'B' : 'A'}`).toBeLessThan(1e-9);
      });
    }
    await screenshot(opened.page, 'backends-webgpu');
    expect(opened.errors).toEqual([]);
  });
});
