// SALE against an independent float64 statement of its rule: r_ij = exp(s_ij − m_i) / ℓ_i over the exact region,
// a block kept when any element has r_ij > τ. int8 estimates must make (nearly) the same decisions, int4 close ones.
import { createHeadTensor, createReferenceBackend, kvHeadOf } from '@sparseland/core';
import { createCostMeter, createRng, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { exactRegion, sale, saleMask } from './sale.js';

function inputs(seed: number, heads = 4, kvHeads = 2, n = 150, dim = 16) {
  const rng = createRng(seed);
  const t = (h: number, len: number, spread: number) => {
    const x = createHeadTensor(h, len, dim);
    for (let i = 0; i < x.data.length; i++) x.data[i] = spread * rng.normal() + 0.3;
    return x;
  };
  return { q: t(heads, n, 1.5), k: t(kvHeads, n, 1.5), v: t(kvHeads, n, 1) };
}

/** The rule in float64, with no quantisation: the kept (head, qb, kb) triples. */
function exactRule(input: ReturnType<typeof inputs>, blockQ: number, blockK: number, tau: number, window: number): Set<string> {
  const shape = resolveAttentionShape(input);
  const { heads, kvHeads, qLength: n, dim } = shape;
  const exact = exactRegion({ ...input, shape, causal: true }, { blockQ, blockK }, { localWindow: window, sinkBlocks: 1 });
  const kept = new Set<string>();
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    for (let i = 0; i < n; i++) {
      const qb = Math.floor(i / blockQ);
      const region = new Set(exact.fullBlocks(0, qb));
      const s = (j: number) => {
        let d = 0;
        for (let c = 0; c < dim; c++)
          d += (input.q.data[(h * n + i) * dim + c] as number) * (input.k.data[(g * n + j) * dim + c] as number);
        return d / Math.sqrt(dim);
      };
      let m = -Infinity;
      for (let j = 0; j <= i; j++) if (region.has(Math.floor(j / blockK))) m = Math.max(m, s(j));
      let l = 0;
      for (let j = 0; j <= i; j++) if (region.has(Math.floor(j / blockK))) l += Math.exp(s(j) - m);
      for (let j = 0; j <= i; j++) {
        const kb = Math.floor(j / blockK);
        if (region.has(kb) || Math.exp(s(j) - m) / l > tau) kept.add(`${h}/${qb}/${kb}`);
      }
    }
  }
  return kept;
}

async function saleBlocks(input: ReturnType<typeof inputs>, params: Record<string, unknown>, blockQ: number, blockK: number) {
  const shape = resolveAttentionShape(input);
  const mask = await saleMask(
    { ...input, shape, causal: true },
    { backend: createReferenceBackend(), cost: createCostMeter(), seed: 0, layer: 0, blockQ, blockK },
    sale.parseParams(params) as never,
  );
  const kept = new Set<string>();
  for (let h = 0; h < mask.heads; h++)
    for (let qb = 0; qb < mask.qBlocks; qb++) for (const kb of mask.fullBlocks(h, qb)) kept.add(`${h}/${qb}/${kb}`);
  return kept;
}

const diff = (a: Set<string>, b: Set<string>) => [...a].filter((x) => !b.has(x)).length + [...b].filter((x) => !a.has(x)).length;

describe('sale', () => {
  it('int8 estimates make the float64 rule’s decisions, int4 nearly (GQA, odd length, blocks 16×8)', async () => {
    const input = inputs(3);
    const want = exactRule(input, 16, 8, 0.02, 16);
    const int8 = await saleBlocks(input, { threshold: 0.02, localWindow: 16, bits: 8 }, 16, 8);
    const int4 = await saleBlocks(input, { threshold: 0.02, localWindow: 16 }, 16, 8);
    expect(want.size).toBeGreaterThan(50);
    expect(diff(int8, want)).toBeLessThanOrEqual(Math.ceil(0.01 * want.size));
    expect(diff(int4, want)).toBeLessThanOrEqual(Math.ceil(0.1 * want.size));
    // Group scales are coarser than per-token ones but make the same kind of decisions.
    const grouped = await saleBlocks(input, { threshold: 0.02, localWindow: 16, scales: 'group' }, 16, 8);
    expect(diff(grouped, want)).toBeLessThanOrEqual(Math.ceil(0.15 * want.size));
  });

  it('a lower τ keeps a superset; τ = 0 heads are dense; the exact region is always kept', async () => {
    const input = inputs(4);
    const loose = await saleBlocks(input, { threshold: 0.001, localWindow: 16 }, 16, 16);
    const tight = await saleBlocks(input, { threshold: 0.05, localWindow: 16 }, 16, 16);
    for (const x of tight) expect(loose.has(x)).toBe(true);
    const mixed = await saleBlocks(input, { thresholds: [0, 0.5, 0.5, 0.5], localWindow: 16 }, 16, 16);
    let dense = 0;
    for (let qb = 0; qb < 10; qb++) for (let kb = 0; kb <= qb; kb++) dense += mixed.has(`0/${qb}/${kb}`) ? 1 : 0;
    expect(dense).toBe(55);
    for (let qb = 0; qb < 10; qb++) {
      expect(mixed.has(`1/${qb}/${qb}`)).toBe(true);
      expect(mixed.has(`1/${qb}/0`)).toBe(true);
    }
    await expect(saleBlocks(input, { thresholds: [0.1, 0.1] }, 16, 16)).rejects.toThrow(/one τ per query head \(4\), got 2/);
  });
});
