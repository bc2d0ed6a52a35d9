import { defineKvPolicy, type HeadTensor, type PackedBits } from '@sparseland/core';
import type { KvPolicy } from '@sparseland/core/kit';
import { createRng, intParam, type KvCacheLayer, type KvPolicyContext, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { countForMass } from '../parts/mass-threshold.js';
import { perCache } from '../parts/per-cache.js';
import { QueryWindow } from '../parts/query-window.js';
import { keepTop } from '../parts/top-k.js';
import { normalizedAttention } from '../scorers/normalized-attention.js';

const bitsParam = (fallback: PackedBits, description: string) =>
  z
    .union([z.literal(2), z.literal(4), z.literal(8)])
    .default(fallback)
    .describe(description);

/**
 * Importance-tiered precision after ZipCache / ZipVL: token importance is ZipCache's normalised attention from probe
 * queries (half the newest queries, half random ones); per layer, the important tokens are the smallest set holding
 * a share `tau` of the layer's importance mass (so their number adapts to the layer), kept per head at `highBits`;
 * the rest at `lowBits`; the newest `recent` tokens stay in full precision, and every `recent` decode steps the
 * oldest of them are scored by the recent queries and quantised the same way. Defaults: τ 0.97 (best in ZipVL's
 * ablation), 4 / 2 bits (consistent with its LLaMA3 GSM8k table), a 100-token window, 10 % probes, KIVI's groups
 * of 32. Nothing is evicted.
 */
export const zipCache = defineKvPolicy({
  name: 'zipcache',
  summary: 'Important tokens (by normalised attention, adaptive count) at high precision, the rest at low precision.',
  paper: PAPERS.zipcache,
  params: z
    .object({
      tau: numberParam(0, 1, 0.97, "share of the layer's attention mass the important tokens hold (τ = 0.97)"),
      highBits: bitsParam(4, 'bits of important tokens (4)'),
      lowBits: bitsParam(2, 'bits of the other tokens (2)'),
      recent: intParam(1, 100, 'newest tokens kept in full precision; re-scored and quantised every `recent` steps (100)'),
      probeFraction: numberParam(0, 1, 0.1, 'share of the prompt queries used as probes (half newest, half random)'),
      group: intParam(1, 32, 'tokens per key group and channels per value group (KIVI G = 32)'),
      seed: z.number().int().min(0).max(0xffffffff).default(0).describe('seed of the random probes'),
    })
    .strict(),
  build: ({ tau, highBits, lowBits, recent, probeFraction, group, seed }) => {
    const windows = perCache(() => new QueryWindow(recent));
    const pack = { keyGroup: group, valueGroup: group };

    /** Quantises the full-precision slots [from, to) of every head: the important ones high, the rest low. */
    const quantize = (
      cache: KvCacheLayer,
      queries: HeadTensor,
      probes: readonly number[],
      position: (i: number) => number,
      span: (g: number) => [number, number],
    ) => {
      const scores = Array.from({ length: cache.kvHeads }, (_, g) => {
        const [from, to] = span(g);
        return normalizedAttention(cache, g, queries, probes, position).slice(from, to);
      });
      const layer = new Float64Array(scores[0]?.length ?? 0);
      for (const s of scores) for (let i = 0; i < Math.min(layer.length, s.length); i++) layer[i] = (layer[i] as number) + (s[i] as number);
      const important = countForMass(layer, tau);
      for (let g = 0; g < cache.kvHeads; g++) {
        const [from] = span(g);
        const s = scores[g] as Float64Array;
        const high = keepTop(s, important);
        const isHigh = new Uint8Array(s.length);
        for (const i of high) isHigh[i] = 1;
        const low = Int32Array.from(
          Array.from({ length: s.length }, (_, i) => i).filter((i) => !isHigh[i]),
          (i) => from + i,
        );
        // Pack the low tier first: packing moves slots, so the high tier's slots shift down by its size.
        if (low.length > 0) cache.pack(g, low, { bits: lowBits, ...pack });
        const packed = cache.packedLength(g);
        const highSlots = Int32Array.from(high, (_, k) => packed + k);
        if (highSlots.length > 0) cache.pack(g, highSlots, { bits: highBits, ...pack });
      }
    };

    return Object.freeze<KvPolicy>({
      name: 'zipcache',
      afterPrefill(cache: KvCacheLayer, queries: HeadTensor, ctx: KvPolicyContext) {
        const position = (i: number) => ctx.position - (queries.length - 1 - i);
        windows(cache).push(queries, position);
        const n = queries.length;
        const half = Math.max(1, Math.round((probeFraction * n) / 2));
        const newest = Array.from({ length: Math.min(n, half) }, (_, i) => n - 1 - i);
        const rng = createRng(seed + cache.layer);
        const older = n - newest.length;
        const random = older > 0 ? Array.from(new Set(Array.from({ length: half }, () => Math.floor(rng.next() * older)))) : [];
        const probes = [...random, ...newest].sort((a, b) => a - b);
        quantize(cache, queries, probes, position, (g) => [
          cache.packedLength(g),
          Math.max(cache.packedLength(g), cache.length(g) - recent),
        ]);
      },
      afterAppend(cache: KvCacheLayer, query: HeadTensor, ctx: KvPolicyContext) {
        const win = windows(cache);
        win.push(query, () => ctx.position);
        const full = cache.length(0) - cache.packedLength(0);
        if (full < 2 * recent) return;
        const q = win.tensor();
        quantize(
          cache,
          q,
          Array.from({ length: win.size }, (_, i) => i),
          (i) => win.position(i),
          (g) => [cache.packedLength(g), cache.packedLength(g) + recent],
        );
      },
      budget: () => ({}),
      stateBytes: (cache: KvCacheLayer) => windows(cache).bytes(),
    });
  },
});
