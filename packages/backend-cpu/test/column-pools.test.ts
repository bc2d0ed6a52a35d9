import { allBackendCases, FP32_TOLERANCE } from '@sparseland/conformance/cases';
import { ColumnMask, createBlockMask, type SparseMask } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { SEG_INTS, SEG_KIND_MASK, SEG_POOLED } from '../src/driver/job-layout.js';
import { createCpuBackend } from '../src/index.js';
import { planAttend } from '../src/plan/attend-plan.js';

const shape = { heads: 4, kvHeads: 2, qLength: 256, kvLength: 256, dim: 16, qOffset: 0 };
const mshape = { heads: 4, qLength: 256, kvLength: 256, qOffset: 0 };
const vertical = Int32Array.from({ length: 60 }, (_, i) => 3 + 4 * i); // 3, 7, …, 239

function verticalLines(heads: number): SparseMask {
  return {
    blocks: createBlockMask((_h, q, k) => Math.floor(q / 64) === Math.floor(k / 64), mshape, {
      blockQ: 64,
      blockK: 64,
      broadcast: heads === 1,
    }),
    columns: ColumnMask.build(mshape, 64, { heads }, (h, qb, out) => {
      for (const k of vertical) if (k < (qb + 1) * 64 && (heads === 1 || (k + h) % 3 !== 0)) out.push(k);
    }),
  };
}

/** The POOLED segments of a plan as [pool source offset, keys read]. */
function pooledSegments(segments: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let s = 0; s < segments.length; s += SEG_INTS) {
    if (((segments[s] as number) & SEG_KIND_MASK) === SEG_POOLED) out.push([segments[s + 3] as number, segments[s + 2] as number]);
  }
  return out;
}

describe('column pools (vertical lines gathered once per call)', () => {
  it('a ColumnMask shared by every head: one pool per kv head holding the union, read as runs', () => {
    const plan = planAttend(shape, verticalLines(1), true);
    expect(plan.pools?.map((p) => p.kvHead)).toEqual([0, 1]);
    expect(Array.from(plan.pools?.[0]?.keys ?? [])).toEqual(Array.from(vertical));
    const pooled = pooledSegments(plan.segments);
    // Query blocks 1–3 read 16 to 44 earlier columns outside their diagonal block: one run each (block 0 reads
    // 16 columns inside its own block, a full block, so none).
    expect(pooled.length).toBe(3);
    expect(pooled.every(([offset]) => offset === shape.kvHeads)).toBe(true);
    expect(pooled.map(([, n]) => n)).toEqual([16, 32, 48]);
  });

  it('per-head columns: one pool per query head, from its kv head', () => {
    const plan = planAttend(shape, verticalLines(4), true);
    expect(plan.pools?.map((p) => p.kvHead)).toEqual([0, 0, 1, 1]);
    expect(pooledSegments(plan.segments).length).toBeGreaterThan(0);
  });

  it('short runs are gathered as before, and pools larger than K itself are not made', () => {
    const scattered: SparseMask = { columns: ColumnMask.build(mshape, 64, {}, (h, qb, out) => out.pushAll([h, 100 + qb])) };
    const plan = planAttend(shape, scattered, true);
    expect(pooledSegments(plan.segments)).toEqual([]);
    const everything: SparseMask = {
      columns: ColumnMask.build(mshape, 64, {}, (_h, _qb, out) => {
        for (let k = 0; k < 256; k++) out.push(k);
      }),
    };
    expect(planAttend(shape, everything, true).pools).toEqual([]);
  });

  it('the conformance cases with vertical lines read pools on this backend and match the reference', async () => {
    const backend = await createCpuBackend({ threads: 2 });
    try {
      for (const c of allBackendCases().filter((x) => x.name.startsWith('attend: vertical lines'))) await c.run(backend, FP32_TOLERANCE);
    } finally {
      await backend.dispose();
    }
  });
});
