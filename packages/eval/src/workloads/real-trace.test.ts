import { createReferenceBackend, referenceAttention } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { testRegistry } from '../../test/helpers.js';
import { evaluateMethods } from '../evaluate.js';
import { realTraceWorkload } from './real-trace.js';
import { collectItems } from './workload.js';

describe('realTraceWorkload', () => {
  it('traces every layer of stories260K over a book passage, with GQA shapes', async () => {
    const workload = await realTraceWorkload({ model: 'stories260K', positions: 200, offset: 1000 });
    expect(workload.name).toBe('stories260K:pride-and-prejudice@1000+200');
    const items = await collectItems(workload);
    expect(items.map((i) => i.layer)).toEqual([0, 1, 2, 3, 4]);
    for (const item of items) {
      expect([item.q.heads, item.q.length, item.q.dim]).toEqual([8, 200, 8]);
      expect([item.k.heads, item.v.heads]).toEqual([4, 4]);
    }
    expect(workload.description).not.toMatch(/extrapolation/);
    // Facts from FORMATS.md: most heads are sparse, so a 64-key window already keeps most of the mass.
    const report = await evaluateMethods({
      methods: [{ label: 'window 64', recipe: { method: 'window', params: { window: 64 } } }],
      workloads: [workload],
      registry: testRegistry,
      backend: createReferenceBackend(),
    });
    expect(report.results[0]!.summary.recallMean).toBeGreaterThan(0.7);
    expect(report.results[0]!.heads).toHaveLength(5 * 8);
  });

  it('marks positions past the trained context, and keeps only the asked layers', async () => {
    const workload = await realTraceWorkload({ model: 'stories260K', positions: 520, layers: [4] });
    expect(workload.description).toMatch(/past 512 are RoPE extrapolation/);
    const [item] = await collectItems(workload);
    expect(item!.layer).toBe(4);
    // The traced Q, K, V are what the forward pass attended with: dense attention over them is finite.
    expect(referenceAttention({ q: item!.q, k: item!.k, v: item!.v }).output.data.every(Number.isFinite)).toBe(true);
    await expect(realTraceWorkload({ model: 'stories260K', positions: 10, offset: 10_000_000 })).rejects.toThrow(/E_PARAMS.*offset/);
    await expect(realTraceWorkload({ model: 'tinybooks' as never })).rejects.toThrow(
      /E_PARAMS.*model must be one of tinybooks-2k, stories260K/,
    );
  });
});
