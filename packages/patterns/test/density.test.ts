import { countKeptPairs, type MaskShape, type PatternPlugin } from '@sparseland/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aShape, bigbird, fixed, longformer, moa, neighborhood, slidingWindow, sparseVdit, strided } from '../src/index.js';

// Measured kept pairs (counted exactly from the fast builder's mask) against each paper's closed form.
const square = (n: number, heads = 1): MaskShape => ({ heads, qLength: n, kvLength: n, qOffset: 0 });

function kept(plugin: PatternPlugin, params: Record<string, unknown>, shape: MaskShape, block = 32): number {
  const instance = plugin.build(plugin.parseParams(params));
  const mask = instance.mask?.(shape, { blockQ: block, blockK: block });
  return countKeptPairs(mask, shape, { causal: false }).kept;
}

/** Σ over queries q in [0, n) of f(q). */
const sum = (n: number, f: (q: number) => number) => Array.from({ length: n }, (_, q) => f(q)).reduce((a, b) => a + b, 0);

describe('measured density equals the closed form', () => {
  it('sliding window: min(q + 1, W) keys per query, density → W / (N/2) over the causal triangle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 120 }), (n, w) => {
        expect(kept(slidingWindow, { window: w }, square(n))).toBe(sum(n, (q) => Math.min(q + 1, w)));
        // Closed form of the sum for N >= W: W(W+1)/2 + (N − W)·W.
        if (n >= w) expect(kept(slidingWindow, { window: w }, square(n))).toBe((w * (w + 1)) / 2 + (n - w) * w);
      }),
      { numRuns: 40, seed: 1 },
    );
  });

  it('A-shape: min(q + 1, sink + local) keys per query', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 80 }), (n, sink, local) => {
        expect(kept(aShape, { sink, local }, square(n))).toBe(sum(n, (q) => Math.min(q + 1, sink + local)));
      }),
      { numRuns: 40, seed: 2 },
    );
  });

  it('Sparse Transformer strided (merged): min(q + 1, ℓ) local keys + ⌊q / ℓ⌋ strided ones; density ≈ 3/√N at ℓ = √N (2ℓ/N local + 1/ℓ strided)', () => {
    for (const [n, stride] of [
      [256, 16],
      [300, 17],
      [1024, 32],
    ] as const) {
      const count = kept(strided, { stride }, square(n));
      expect(count).toBe(sum(n, (q) => Math.min(q + 1, stride) + (q >= stride ? Math.floor(q / stride) : 0)));
      const density = count / ((n * (n + 1)) / 2);
      expect(Math.abs(density - 3 / Math.sqrt(n))).toBeLessThan(0.25 / Math.sqrt(n));
    }
  });

  it('Sparse Transformer fixed: (q mod ℓ) + 1 own-chunk keys + c summary keys per earlier chunk', () => {
    for (const [n, stride, summary] of [
      [256, 16, 2],
      [333, 24, 5],
    ] as const) {
      expect(kept(fixed, { stride, summary }, square(n))).toBe(sum(n, (q) => (q % stride) + 1 + summary * Math.floor(q / stride)));
    }
  });

  it('Longformer without globals: 2·⌊w/2⌋ + 1 keys per query away from the ends', () => {
    const n = 400;
    const w = 64;
    const half = w / 2;
    expect(kept(longformer, { window: w, globalTokens: [] }, square(n))).toBe(
      sum(n, (q) => Math.min(n - 1, q + half) - Math.max(0, q - half) + 1),
    );
  });

  it('BigBird: interior query blocks keep (window + 2·global + random)·b keys', () => {
    const b = 16;
    const n = 64 * b;
    const shape = square(n, 2);
    const instance = bigbird.build(bigbird.parseParams({ blockSize: b }));
    const mod = instance.maskMod?.(shape) as (h: number, q: number, k: number) => boolean;
    for (const h of [0, 1]) {
      for (const qb of [3, 20, 40, 60]) {
        let count = 0;
        for (let k = 0; k < n; k++) if (mod(h, qb * b, k)) count++;
        expect(count).toBe((3 + 2 * 1 + 3) * b);
      }
    }
    // And the whole mask: 2 global rows of n keys, the rest (3 + 2 + 3)·b, minus overlaps near the ends.
    const measured = kept(bigbird, { blockSize: b }, shape) / 2;
    expect(measured / (n * n)).toBeCloseTo((2 * n * b + (n - 2 * b) * 8 * b) / (n * n), 1);
  });

  it('neighborhood (non-causal): every query sees exactly the product of the kernel sizes', () => {
    expect(kept(neighborhood, { kernelSize: 9 }, square(300))).toBe(300 * 9);
    expect(kept(neighborhood, { kernelSize: 5, dilation: 3 }, square(300))).toBe(300 * 5);
    expect(kept(neighborhood, { grid: [12, 20], kernelSize: [5, 7] }, square(240))).toBe(240 * 35);
    expect(kept(neighborhood, { grid: [4, 6, 10], kernelSize: [3, 3, 5], stride: [1, 3, 5] }, square(240))).toBe(240 * 45);
  });

  it('MoA: head h keeps min(q + 1, span_h) recent keys plus the sinks, span_h = α_h + β_h·N', () => {
    const n = 256;
    const alpha = [16, 0, -64];
    const beta = [0, 0.25, 0.5];
    const sink = 8;
    const shape = square(n, 3);
    const instance = moa.build(moa.parseParams({ alpha, beta, sink }));
    const mask = instance.mask?.(shape, { blockQ: 32, blockK: 32 });
    let expected = 0;
    for (let h = 0; h < 3; h++) {
      const span = Math.floor((alpha[h] as number) + (beta[h] as number) * n);
      expected += sum(n, (q) => Math.min(q + 1, span + Math.max(0, Math.min(sink, q + 1 - span))));
    }
    expect(countKeptPairs(mask, shape, { causal: false }).kept).toBe(expected);
  });

  it('Sparse-vDiT multi-diagonal: (2w + 1) keys per frame lag, all lags', () => {
    const f = 20;
    const n = 10 * f;
    const w = 2;
    // Interior queries see 2w + 1 keys around each of the n / f lags.
    const instance = sparseVdit.build(sparseVdit.parseParams({ pattern: 'multi-diagonal', tokensPerFrame: f, window: w }));
    const mod = instance.maskMod?.(square(n)) as (h: number, q: number, k: number) => boolean;
    for (const q of [45, 100, 155]) {
      let count = 0;
      for (let k = 0; k < n; k++) if (mod(0, q, k)) count++;
      expect(count).toBe((n / f) * (2 * w + 1));
    }
  });
});
