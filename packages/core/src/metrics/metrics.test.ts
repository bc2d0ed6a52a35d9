import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbShape, denseOf, randomMaskMod, toMaskShape } from '../../test/helpers.js';
import { createBlockMask } from '../masks/build-block-mask.js';
import { ColumnMask } from '../masks/column-mask.js';
import { causal, emptyMask, fullMask } from '../masks/mask-mod.js';
import { referenceAttention } from '../reference/reference-attention.js';
import { randomHeadTensor } from '../tensor/head-tensor.js';
import { attentionFlops, countKeptPairs, countKeptPairsPerHead, denseAttentionFlops, density } from './count-pairs.js';
import { attentionRecall, outputError } from './recall.js';

function inputs(n: number, seed = 1) {
  return {
    q: randomHeadTensor({ heads: 4, length: n, dim: 8, seed, scale: 2 }),
    k: randomHeadTensor({ heads: 2, length: n, dim: 8, seed: seed + 1, scale: 2 }),
    v: randomHeadTensor({ heads: 2, length: n, dim: 8, seed: seed + 2 }),
  };
}

describe('attentionRecall', () => {
  it('is 1 for the full mask and 0 for the empty mask', () => {
    const input = inputs(20);
    const full = attentionRecall(input, fullMask);
    expect(full.mean).toBeCloseTo(1, 12);
    expect(full.min).toBeCloseTo(1, 12);
    expect(attentionRecall(input, emptyMask).mean).toBe(0);
  });

  it('equals the kept softmax mass computed from the dense probabilities', () => {
    const input = inputs(9, 4);
    const keep = (_h: number, q: number, k: number) => q - k < 3;
    const r = attentionRecall(input, keep, { rows: [0, 4, 8] });
    // Row 8 of head 1: compute the probabilities by hand.
    const scale = 1 / Math.sqrt(8);
    const h = 1;
    const logits = Array.from({ length: 9 }, (_, j) => {
      let s = 0;
      for (let c = 0; c < 8; c++) s += (input.q.data[(h * 9 + 8) * 8 + c] as number) * (input.k.data[(0 * 9 + j) * 8 + c] as number);
      return s * scale;
    });
    const m = Math.max(...logits);
    const w = logits.map((l) => Math.exp(l - m));
    const z = w.reduce((a, b) => a + b);
    const want = ((w[6] as number) + (w[7] as number) + (w[8] as number)) / z;
    expect(r.perRow[h * 3 + 2]).toBeCloseTo(want, 10);
    expect(r.perRow[h * 3 + 0]).toBeCloseTo(1, 12);
    expect(r.min).toBeLessThan(r.mean);
    expect(() => attentionRecall(input, keep, { rows: [9] })).toThrow(/E_PARAMS/);
  });
});

describe('density and pair counts', () => {
  it('counts exactly what the dense matrix keeps, with blocks and columns (each key once)', () => {
    fc.assert(
      fc.property(arbShape, fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), (s, seed, kind, isCausal) => {
        const shape = toMaskShape(s);
        const mod = randomMaskMod(seed, kind);
        const blocks = createBlockMask(mod, shape, s);
        const columns = ColumnMask.build(shape, 3, {}, (h, qb, out) => {
          for (let k = (seed + h + qb) % 4; k < shape.kvLength; k += 4) out.push(k);
        });
        const dense = denseOf((h, q, k) => (mod(h, q, k) || columns.contains(h, q, k)) && (!isCausal || k <= q), shape);
        const kept = dense.reduce((a, b) => a + b, 0);
        const counted = countKeptPairs({ blocks, columns }, shape, { causal: isCausal });
        expect(counted.kept).toBe(kept);
        const all = denseOf((_h, q, k) => !isCausal || k <= q, shape).reduce((a, b) => a + b, 0);
        expect(counted.total).toBe(all);
      }),
      { numRuns: 80 },
    );
  });

  it('density of causal under a causal call is 1, and FLOPs follow 4·d per pair', () => {
    const shape = { heads: 8, qLength: 256, kvLength: 256, qOffset: 0 };
    expect(density(causal, shape)).toBe(1);
    expect(density(causal, shape, { causal: false })).toBeCloseTo((256 * 257) / 2 / 256 ** 2, 12);
    expect(attentionFlops(10, 64)).toBe(2560);
    // performance.md: causal dense = 2·N²·d per head (plus the diagonal).
    expect(denseAttentionFlops({ ...shape, dim: 64 })).toBe(4 * 64 * ((256 * 257) / 2) * 8);
  });
});

describe('outputError', () => {
  it('is the relative L2 distance', () => {
    expect(outputError(Float32Array.of(1, 2, 2), Float32Array.of(1, 2, 2))).toBe(0);
    expect(outputError(Float32Array.of(0, 0, 3), Float32Array.of(0, 0, 4))).toBeCloseTo(0.25, 12);
    expect(() => outputError(Float32Array.of(1), Float32Array.of(1, 2))).toThrow(/E_SHAPE/);
  });

  it('is small for a high-recall mask and large for a low-recall one', () => {
    const input = inputs(32, 7);
    const dense = referenceAttention(input);
    const local = referenceAttention(input, { mask: (_h, q, k) => q - k < 24 });
    const tiny = referenceAttention(input, { mask: (_h, q, k) => q === k });
    expect(outputError(local.output, dense.output)).toBeLessThan(outputError(tiny.output, dense.output));
  });
});

describe('countKeptPairsPerHead', () => {
  it('splits the total by query head and sums to countKeptPairs', () => {
    const shape = { heads: 3, qLength: 20, kvLength: 20, qOffset: 0 };
    const mask = createBlockMask((h, q, k) => q - k <= h * 3, shape, { blockQ: 4, blockK: 4 });
    const per = countKeptPairsPerHead(mask, shape);
    const dense = denseOf((h, q, k) => k <= q && q - k <= h * 3, shape);
    for (let h = 0; h < 3; h++) {
      expect(per.kept[h]).toBe(dense.subarray(h * 400, (h + 1) * 400).reduce((a, b) => a + b, 0));
    }
    expect(per.densePerHead).toBe(210);
    expect(countKeptPairs(mask, shape).kept).toBe(per.kept.reduce((a, b) => a + b, 0));
    expect(Array.from(countKeptPairsPerHead(undefined, shape, { causal: false }).kept)).toEqual([400, 400, 400]);
  });
});
