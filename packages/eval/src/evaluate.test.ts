import { countKeptPairs, createReferenceBackend, isSparselandError } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { testRegistry } from '../test/helpers.js';
import { type EvalProgress, evaluateMethods } from './evaluate.js';
import { formatEvalReport, formatHeads } from './results/format-report.js';
import { mqarWorkload } from './workloads/mqar.js';
import { syntheticWorkload } from './workloads/synthetic.js';
import { collectItems } from './workloads/workload.js';

const synthetic = () =>
  syntheticWorkload({ n: 333, seed: 4, heads: 4, kvHeads: 2, dim: 32, samples: 2, structure: { band: 16, needles: 2, verticals: 4 } });

describe('evaluateMethods', () => {
  it('measures dense, a window and an exact top-k oracle on synthetic inputs, per head and in summary', async () => {
    const progress: EvalProgress[] = [];
    const report = await evaluateMethods({
      methods: [
        { label: 'dense', recipe: { method: 'dense' } },
        { label: 'window 16', recipe: { method: 'window', params: { window: 16 } } },
        { label: 'top-4', recipe: '{"method": "exact-top-k", "params": {"topK": 4}}' },
      ],
      workloads: [synthetic()],
      registry: testRegistry,
      backend: createReferenceBackend(),
      onProgress: (p) => progress.push(p),
    });
    expect(report.kind).toBe('sparseland-eval');
    expect(report.backend.name).toBe('reference');
    expect(report.workloads[0]).toMatchObject({
      name: 'synthetic:333',
      items: 2,
      heads: 4,
      kvHeads: 2,
      dim: 32,
      length: 333,
      rowsMeasured: [333, 333],
    });
    expect(progress.map((p) => p.done)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(progress.every((p) => p.total === 6)).toBe(true);
    const [dense, window, top] = report.results;
    expect(dense!.heads).toHaveLength(2 * 4);
    expect(dense!.summary.density).toBe(1);
    expect(dense!.summary.recallMean).toBeCloseTo(1, 6);
    expect(dense!.summary.outputError).toBeLessThan(1e-6);
    expect(dense!.summary.needleHitRate).toBe(1);
    expect(dense!.summary.flops.attend).toBe(dense!.summary.flops.dense);

    // The window's density is exactly core's count; it misses every needle (they sit beyond the band).
    const [item] = await collectItems(synthetic());
    const shape = resolveAttentionShape(item!);
    const counted = countKeptPairs((_h, q, k) => q - k < 16, shape);
    expect(window!.summary.density).toBeCloseTo(counted.kept / counted.total, 12);
    expect(window!.heads[0]!.density).toBeCloseTo(counted.kept / counted.total, 12);
    expect(window!.summary.needleHitRate).toBe(0);
    expect(window!.summary.recallMean).toBeLessThan(0.9);
    expect(window!.summary.recallMin).toBeLessThan(window!.summary.recallMean);
    expect(window!.summary.outputError).toBeGreaterThan(0.01);
    expect(window!.summary.flops.attend).toBe(4 * 32 * counted.kept * 2);
    expect(window!.summary.flops.estimate).toBe(0);

    // Needles carry most of their row, so the exact top-4 keeps all of them, with little output error.
    expect(top!.summary.needleHitRate).toBe(1);
    expect(top!.summary.needles).toBe(2 * 4 * 2);
    expect(top!.summary.recallMean).toBeGreaterThan(window!.summary.recallMean);
    expect(top!.summary.flops.estimate).toBeGreaterThan(0);
    expect(top!.heads[0]!.flops.estimate).toBeCloseTo(top!.summary.flops.estimate / 8, 6);
    expect(top!.summary.ms.total).toBeGreaterThanOrEqual(0);

    // The report is plain JSON and prints as a table.
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
    const table = formatEvalReport(report);
    expect(table).toMatch(/synthetic:333/);
    expect(table).toMatch(/window 16/);
    expect(table).toMatch(/all rows/);
    expect(formatHeads(window!)).toMatch(/layer\s+head\s+density/);
  });

  it('samples rows on long inputs, always measuring the needle rows', async () => {
    const report = await evaluateMethods({
      methods: [{ label: 'w', recipe: { method: 'window', params: { window: 8 } } }],
      workloads: [mqarWorkload({ n: 401, pairs: 20, queries: 12, seed: 3, heads: 2, kvHeads: 1, dim: 32 })],
      registry: testRegistry,
      backend: createReferenceBackend(),
      recallRows: 16,
    });
    const rows = report.workloads[0]!.rowsMeasured[0]!;
    expect(rows).toBeGreaterThanOrEqual(16 + 12 - 2);
    expect(rows).toBeLessThanOrEqual(16 + 12);
    expect(report.results[0]!.summary.needles).toBe(24);
    expect(report.results[0]!.summary.needleHitRate).toBe(0);
    expect(formatEvalReport(report)).toMatch(/sampled rows/);
  });

  it('names the method and suggests the closest name for an unknown method; rejects bad options', async () => {
    const base = { workloads: [synthetic()], registry: testRegistry, backend: createReferenceBackend() };
    await expect(evaluateMethods({ ...base, methods: [{ label: 'x', recipe: { method: 'windw' } }] })).rejects.toThrow(
      /E_UNKNOWN_PLUGIN.*method 0 \("x"\).*Did you mean "window"/,
    );
    await expect(
      evaluateMethods({ ...base, methods: [{ label: 'x', recipe: { method: 'window', params: { window: 0 } } }] }),
    ).rejects.toThrow(/E_PARAMS.*params\.window/);
    const twice = [
      { label: 'a', recipe: { method: 'dense' } },
      { label: 'a', recipe: { method: 'dense' } },
    ];
    await expect(evaluateMethods({ ...base, methods: twice })).rejects.toSatisfy((e) => isSparselandError(e, 'E_PARAMS'));
    await expect(evaluateMethods({ ...base, methods: [] })).rejects.toThrow(/non-empty array/);
    await expect(evaluateMethods({ ...base, methods: [{ label: 'd', recipe: { method: 'dense' } }], recallRows: 0 })).rejects.toThrow(
      /recallRows must be an integer >= 1/,
    );
  });
});
