import { defineEstimator, kvHeadOf } from '@sparseland/core';
import { createRng, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { scoreMatrix } from '../common/backend-ops.js';
import { QueryBlocks } from '../common/geometry.js';
import { mixSeed, randomDirections, signBuckets, sortByBucket } from '../common/lsh.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/** A non-causal sub-problem: queries at positions [qs, qe) against keys [ks, ke). */
interface Quadrant {
  readonly qs: number;
  readonly qe: number;
  readonly ks: number;
  readonly ke: number;
}

/**
 * HyperAttention as a mask. Queries and keys are hashed with `lshNumProjs` random hyperplanes (sign bits read as a
 * Gray code, so adjacent buckets differ in one bit) and sorted by bucket; the i-th block of `blockSize` sorted
 * queries attends to the i-th block of sorted keys, plus `sampleSize` uniformly sampled key columns. A causal call
 * recurses: the two diagonal halves are causal sub-problems, the lower-left quadrant is non-causal HyperAttention,
 * and squares of at most `minSeqLen` positions are exact (dense). Query blocks keep the union of their rows' keys.
 * Defaults are insuhan/hyper-attn's (7 projections, block 256, 256 samples, exact below 4096). The sampled columns'
 * reweighting (log(n/s) added to their lse) is an output correction, not part of a mask.
 */
const method = defineEstimator({
  name: 'hyperattention',
  summary: 'HyperAttention: LSH-sorted block-diagonal plus uniformly sampled key columns, causal by recursion.',
  paper: PAPERS.hyperattention,
  budget: { param: 'blockSize', denser: 'higher' },
  params: z
    .object({
      lshNumProjs: intParam(1, 7, 'random hyperplanes of the sortLSH hash (7)'),
      blockSize: intParam(1, 256, 'keys per block on the sorted order (256)'),
      sampleSize: intParam(0, 256, 'uniformly sampled key columns per sub-problem (256)'),
      minSeqLen: intParam(1, 4096, 'squares of at most this many positions are computed exactly (4096)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvHeads, kvLength, qLength, qOffset, dim } = shape;
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const posOf = (i: number) => Math.min(qOffset + i, kvLength - 1);
    const quadrants: Quadrant[] = [];
    const exact: [number, number][] = [];
    const solve = (s: number, e: number): void => {
      if (e - s <= params.minSeqLen) {
        exact.push([s, e]);
        return;
      }
      const mid = s + Math.floor((e - s) / 2);
      solve(s, mid);
      solve(mid, e);
      quadrants.push({ qs: mid, qe: e, ks: s, ke: mid });
    };
    if (causal) solve(0, kvLength);
    else if (kvLength <= params.minSeqLen) exact.push([0, kvLength]);
    else quadrants.push({ qs: 0, qe: kvLength, ks: 0, ke: kvLength });

    // Hash every query and key once (projections on the backend), only when some quadrant needs them.
    const perBlock: number[][][] = Array.from({ length: heads }, () => Array.from({ length: blocks.count }, () => []));
    const sortedKeys: Int32Array[] = [];
    const samples: Int32Array[] = [];
    if (quadrants.length > 0) {
      const planes = randomDirections(params.lshNumProjs, dim, mixSeed(ctx.seed, ctx.layer, 1));
      const qBuckets = signBuckets(await scoreMatrix(ctx, input.q, planes), heads, qLength, params.lshNumProjs);
      const kBuckets = signBuckets(await scoreMatrix(ctx, input.k, planes), kvHeads, kvLength, params.lshNumProjs);
      for (let h = 0; h < heads; h++) {
        const g = kvHeadOf(h, heads, kvHeads);
        quadrants.forEach((quad, qi) => {
          const slot = h * quadrants.length + qi;
          const keys = sortByBucket(kBuckets, g * kvLength, quad.ks, quad.ke);
          sortedKeys[slot] = keys;
          const rng = createRng(mixSeed(ctx.seed, ctx.layer, h, qi, 2));
          const sample = new Int32Array(Math.min(params.sampleSize, keys.length));
          for (let t = 0; t < sample.length; t++) sample[t] = quad.ks + rng.int(quad.ke - quad.ks);
          samples[slot] = sample;
          // Query rows of this call inside the quadrant, sorted the same way; rank t maps to key block ⌊t·nk/nq/B⌋.
          const r0 = Math.max(0, quad.qs - qOffset);
          const r1 = Math.min(qLength, quad.qe - qOffset);
          if (r1 <= r0) return;
          const rows = sortByBucket(qBuckets, h * qLength, r0, r1);
          const keyBlocks = Math.ceil(keys.length / params.blockSize);
          rows.forEach((i, t) => {
            if (posOf(i) < quad.qs) return;
            const b = Math.min(keyBlocks - 1, Math.floor((t * keyBlocks) / rows.length));
            ((perBlock[h] as number[][])[Math.floor(i / ctx.blockQ)] as number[]).push(qi, b);
          });
        });
      }
    }
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      const first = Math.min(blocks.firstPos(qb), kvLength - 1);
      const last = Math.min(blocks.lastPos(qb), kvLength - 1);
      for (const [s, e] of exact) if (first < e && last >= s) row.addKeys(s, e);
      const entries = (perBlock[h] as number[][])[qb] as number[];
      const seen = new Set<number>();
      for (let p = 0; p < entries.length; p += 2) {
        const qi = entries[p] as number;
        const b = entries[p + 1] as number;
        const slot = h * quadrants.length + qi;
        if (!seen.has(-1 - qi)) {
          seen.add(-1 - qi);
          for (const k of samples[slot] as Int32Array) row.addKey(k);
        }
        const code = qi * 1_000_003 + b;
        if (seen.has(code)) continue;
        seen.add(code);
        const keys = sortedKeys[slot] as Int32Array;
        const end = Math.min(keys.length, (b + 1) * params.blockSize);
        for (let t = b * params.blockSize; t < end; t++) row.addKey(keys[t] as number);
      }
    });
  },
});

export const hyperattention = withRettention(method);
