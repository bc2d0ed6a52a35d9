import { createReferenceBackend } from '@sparseland/core';
import { expect, it } from 'vitest';
import { formatRows, runQuickstart } from './quickstart.js';

it('measures the recipe on every layer of the real model and prints one row each', async () => {
  // 512 positions keep the float64 reference fast; the 256-key window then covers most of the causal mask.
  const rows = await runQuickstart(createReferenceBackend(), 512);
  expect(rows.map((r) => r.layer)).toEqual([0, 1, 2, 3]);
  for (const r of rows) {
    expect(r.density).toBeGreaterThan(0.6);
    expect(r.density).toBeLessThan(1);
    expect(r.recallMean).toBeGreaterThan(0.95);
    expect(r.recallMin).toBeLessThanOrEqual(r.recallMean);
    expect(r.outputError).toBeGreaterThan(0);
    expect(r.outputError).toBeLessThan(0.05);
  }
  expect(formatRows(rows).split('\n')).toHaveLength(5);
});
