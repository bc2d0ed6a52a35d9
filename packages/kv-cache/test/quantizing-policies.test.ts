// KIVI and ZipCache-style tiers against re-implementations of their rules: which tokens are packed, in which block
// and at how many bits, what stays in full precision, what the bytes are, and that packed keys read back within
// their quantisation step.
import { packKvBlock, unpackKvBlock } from '@sparseland/core';
import { createRng } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { kivi, zipCache } from '../src/index.js';
import { drive, range, softmaxOver } from './drive.js';

describe('kivi', () => {
  for (const bits of [2, 4] as const) {
    it(`int${bits}: whole key groups are packed, [residual, residual + group) newest tokens stay full precision`, () => {
      const group = 8;
      const residual = 6;
      const shape = { qHeads: 2, kvHeads: 2, dim: 16, prompt: 45, steps: 20 };
      const { records, history, caches } = drive(kivi.build(kivi.parseParams({ bits, group, residual })), shape);
      for (const r of records) {
        const n = shape.prompt + r.step;
        const packed = Math.floor(Math.max(0, n - residual) / group) * group;
        expect({ step: r.step, packed: r.packed }).toEqual({ step: r.step, packed: [packed, packed] });
        // Nothing is evicted and positions stay in order.
        expect(r.held[1]).toEqual(range(0, n));
        expect(n - packed).toBeGreaterThanOrEqual(Math.min(n, residual));
        expect(n - packed).toBeLessThan(residual + group);
      }
      // The blocks: the prompt's whole groups in one block, then one block per group during decode, with KIVI's
      // per-channel key groups; the cache reads back exactly what packing those rows gives.
      const cache = caches[0]!;
      const view = cache.packedView();
      const lengths = view.heads[0]!.blocks.map((b) => b.length);
      expect(lengths).toEqual([32, 8, 8, 8]);
      let at = 0;
      for (const block of view.heads[0]!.blocks) {
        const rows = (t: number[][]) => Float32Array.from(range(at, at + block.length).flatMap((p) => t[p]!));
        const again = unpackKvBlock(
          packKvBlock(rows(history.k[0]![0]!), rows(history.v[0]![0]!), block.length, 16, { bits, keyGroup: group, valueGroup: group }),
        );
        expect(Array.from(cache.keys(0).subarray(at * 16, (at + block.length) * 16))).toEqual(Array.from(again.keys));
        expect(block.bits).toBe(bits);
        at += block.length;
      }
      expect(Array.from(cache.keys(0).subarray(at * 16))).toEqual(range(at, 65).flatMap((p) => history.k[0]![0]![p]!.map(Math.fround)));
      // Bytes: codes (bits/32 of float32) plus float32 scales and mins per group, plus positions.
      const full = 65 * 16 * 2 * 4 + 65 * 4;
      const perToken = (16 * bits) / 8;
      const packedBytes = 56 * perToken * 2 + (56 / group) * 16 * 2 * 4 + 56 * (16 / group) * 2 * 4;
      expect(cache.bytes()).toBe(2 * (packedBytes + (65 - 56) * 16 * 2 * 4 + 65 * 4));
      expect(cache.bytes()).toBeLessThan(2 * full);
    });
  }
});

describe('zipcache', () => {
  it('important tokens (normalised attention of probes, adaptive count at τ) high-bit, the rest low-bit, recent full precision', () => {
    const shape = { qHeads: 4, kvHeads: 2, dim: 8, prompt: 60, steps: 0 };
    const params = { tau: 0.8, highBits: 8, lowBits: 2, recent: 10, probeFraction: 0.2, group: 4, seed: 3 };
    const { records, history, caches } = drive(zipCache.build(zipCache.parseParams(params)), shape);
    const n = shape.prompt;
    const half = Math.max(1, Math.round((params.probeFraction * n) / 2));
    const newest = range(0, half).map((i) => n - 1 - i);
    const rng = createRng(params.seed);
    const random = [...new Set(range(0, half).map(() => Math.floor(rng.next() * (n - half))))];
    const probes = [...random, ...newest];
    const span = range(0, n - params.recent);
    const scores = range(0, 2).map((g) =>
      span.map((p) => {
        let sum = 0;
        let seen = 0;
        for (const i of probes) {
          if (i < p) continue;
          seen++;
          for (const h of [2 * g, 2 * g + 1]) sum += softmaxOver(history.q[0]![h]![i]!, history.k[0]![g]!, range(0, i + 1)).get(p)!;
        }
        return seen > 0 ? sum / seen : 0;
      }),
    );
    const layer = span.map((_, i) => scores[0]![i]! + scores[1]![i]!);
    const total = layer.reduce((a, b) => a + b, 0);
    const sorted = [...layer].sort((a, b) => b - a);
    let count = 0;
    for (let acc = 0; acc < params.tau * total; count++) acc += sorted[count]!;
    expect(count).toBeGreaterThan(0);
    expect(count).toBeLessThan(span.length);
    const view = caches[0]!.packedView();
    for (let g = 0; g < 2; g++) {
      const high = [...span]
        .sort((a, b) => scores[g]![b]! - scores[g]![a]! || b - a)
        .slice(0, count)
        .sort((a, b) => a - b);
      const low = span.filter((p) => !high.includes(p));
      expect(records[0]!.packed[g]).toBe(span.length);
      expect(records[0]!.held[g]).toEqual([...low, ...high, ...range(n - params.recent, n)]);
      expect(view.heads[g]!.blocks.map((b) => [b.bits, b.length])).toEqual([
        [2, low.length],
        [8, high.length],
      ]);
    }
  });

  it('during decode, every `recent` steps the oldest full-precision tokens are scored and quantised', () => {
    const shape = { qHeads: 2, kvHeads: 1, dim: 8, prompt: 30, steps: 25 };
    const { records } = drive(zipCache.build(zipCache.parseParams({ recent: 5, group: 4 })), shape);
    for (const r of records) {
      const n = shape.prompt + r.step;
      const full = n - r.packed[0]!;
      expect(full).toBeGreaterThanOrEqual(5);
      expect(full).toBeLessThan(10);
      expect([...r.held[0]!].sort((a, b) => a - b)).toEqual(range(0, n));
    }
  });
});
