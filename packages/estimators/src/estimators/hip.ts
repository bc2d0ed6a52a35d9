import { defineEstimator, kvHeadOf } from '@sparseland/core';
import { type EstimatorContext, type EstimatorInput, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { scoreChunks } from '../common/backend-ops.js';
import { QueryBlocks } from '../common/geometry.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { topIndices } from '../common/select.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/** One query block's tree search: its current nodes as [start, end) ranges of leaf units. */
interface Search {
  readonly h: number;
  readonly qb: number;
  /** First key of the searched range (after the sink). */
  readonly origin: number;
  /** Keys in the searched range. */
  readonly length: number;
  nodes: Int32Array;
}

/**
 * HiP hierarchical top-k pruning. For each query block, the causal key range between the sink and the sliding window
 * is cut into k = maskK / blockSizeK nodes; every iteration splits each node in half, scores each child by its
 * centre `blockSizeK` keys (the max over the block's strided query rows of q·k) and keeps the k best children, until
 * every node is one leaf of blockSizeK keys. The leaves (as key columns) plus the sink and the window are kept.
 * Defaults are HiP v1.1's: mask_k 512, block_size_k 2, block_stride_q 2, sink 16, sliding window 256; the query
 * block is the recipe's (HiP's block_size_q 64).
 */
const method = defineEstimator({
  name: 'hip',
  summary: 'HiP: per query block, split-in-half tree search keeps the top-k key chunks by centre-key scores.',
  paper: PAPERS.hip,
  budget: { param: 'maskK', denser: 'higher' },
  params: z
    .object({
      maskK: intParam(1, 512, 'keys kept by the tree search per query block (HiP mask_k 512)'),
      blockSizeK: intParam(1, 2, 'keys per leaf and per child representative (HiP block_size_k 2)'),
      blockStrideQ: intParam(1, 2, 'stride over the query rows that score children (HiP block_stride_q 2)'),
      sinkTokens: intParam(0, 16, 'first keys always kept (HiP sink_token_size 16)'),
      windowTokens: intParam(0, 256, 'recent keys always kept (HiP sliding_window_size 256)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvLength, dim } = shape;
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const unit = params.blockSizeK;
    const k = Math.max(1, Math.floor(params.maskK / unit));
    const searches: Search[] = [];
    const dense: Search[] = [];
    for (let h = 0; h < heads; h++) {
      for (let qb = 0; qb < blocks.count; qb++) {
        const origin = Math.min(params.sinkTokens, kvLength);
        const end = Math.max(origin, Math.min(blocks.lastKey(qb) + 1, blocks.firstPos(qb) - params.windowTokens + 1));
        const units = Math.ceil((end - origin) / unit);
        const nodes = new Int32Array(2 * Math.min(k, units));
        for (let j = 0; j < nodes.length / 2; j++) {
          nodes[2 * j] = Math.floor((j * units) / Math.min(k, units));
          nodes[2 * j + 1] = Math.floor(((j + 1) * units) / Math.min(k, units));
        }
        (units <= k ? dense : searches).push({ h, qb, origin, length: end - origin, nodes });
      }
    }
    let active = searches.filter(needsSplit);
    while (active.length > 0) {
      await refine(active, input, ctx, blocks, unit, k, params.blockStrideQ, dim);
      active = active.filter(needsSplit);
    }
    const byRow = new Map<number, Search>();
    for (const s of [...searches, ...dense]) byRow.set(s.h * blocks.count + s.qb, s);
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      row.addKeys(0, params.sinkTokens);
      row.addKeys(blocks.firstPos(qb) - params.windowTokens + 1, blocks.lastPos(qb) + 1);
      const s = byRow.get(h * blocks.count + qb) as Search;
      for (let j = 0; j < s.nodes.length; j += 2) {
        const a = s.origin + (s.nodes[j] as number) * unit;
        const b = Math.min(s.origin + s.length, s.origin + (s.nodes[j + 1] as number) * unit);
        row.addKeys(a, b);
      }
    });
  },
});

export const hip = withRettention(method);

function needsSplit(s: Search): boolean {
  for (let j = 0; j < s.nodes.length; j += 2) if ((s.nodes[j + 1] as number) - (s.nodes[j] as number) > 1) return true;
  return false;
}

/** Scores per backend call (8 MB): many searches per call, small enough for the allocator to reuse the buffers. */
const SCORES_PER_CALL = 1 << 21;

/**
 * One iteration for every active search: split, score the children's centre keys on the backend, keep the top k.
 * The product is taken transposed (centre keys as rows, the block's strided query rows as the packed side): keys are
 * gathered as contiguous runs and each key's scores against the rows arrive contiguous for the max.
 */
async function refine(
  active: Search[],
  input: EstimatorInput,
  ctx: EstimatorContext,
  blocks: QueryBlocks,
  unit: number,
  k: number,
  stride: number,
  dim: number,
): Promise<void> {
  const { shape } = input;
  const rowsPer = Math.ceil(ctx.blockQ / stride);
  const childrenPer = 2 * k;
  const keysPer = childrenPer * unit;
  // Batch many searches per backend call: each search is one "head" of the product.
  const batch = Math.min(active.length, Math.max(1, Math.floor(SCORES_PER_CALL / (rowsPer * keysPer))));
  // One set of buffers for every batch (they are large; fresh ones per batch keep the collector busy).
  const qBuffer = new Float32Array(batch * rowsPer * dim);
  const kBuffer = new Float32Array(batch * keysPer * dim);
  const keyCount = new Int32Array(batch * childrenPer);
  const rowCount = new Int32Array(batch);
  const best = new Float64Array(batch * childrenPer);
  for (let b0 = 0; b0 < active.length; b0 += batch) {
    const group = active.slice(b0, b0 + batch);
    const qData = qBuffer.subarray(0, group.length * rowsPer * dim);
    const kData = kBuffer.subarray(0, group.length * keysPer * dim);
    // Padding rows and keys (short last blocks, fewer children) are scored but never read: keyCount and rowCount
    // hold the real centre keys per child and query rows per search. They hold zeros or an earlier batch's values,
    // finite either way.
    keyCount.fill(0);
    best.fill(-Infinity);
    const children: Int32Array[] = [];
    group.forEach((s, n) => {
      const g = kvHeadOf(s.h, shape.heads, shape.kvHeads);
      const r0 = blocks.firstRow(s.qb);
      const r1 = blocks.endRow(s.qb);
      let r = 0;
      for (let i = r0; i < r1; i += stride, r++) {
        const from = (s.h * shape.qLength + i) * dim;
        qData.set(input.q.data.subarray(from, from + dim), (n * rowsPer + r) * dim);
      }
      rowCount[n] = r;
      const kids = split(s.nodes);
      children.push(kids);
      for (let c = 0; c < kids.length / 2; c++) {
        const centre = Math.floor(((kids[2 * c] as number) + (kids[2 * c + 1] as number) - 1) / 2);
        const k0 = s.origin + centre * unit;
        const k1 = Math.min(s.origin + s.length, k0 + unit);
        keyCount[n * childrenPer + c] = k1 - k0;
        const from = (g * shape.kvLength + k0) * dim;
        kData.set(input.k.data.subarray(from, from + (k1 - k0) * dim), (n * keysPer + c * unit) * dim);
      }
    });
    await scoreChunks(
      ctx,
      { data: kData, heads: group.length, length: keysPer, dim },
      { data: qData, heads: group.length, length: rowsPer, dim },
      1,
      (n, key0, keys, scores, at) => {
        const rows = rowCount[n] as number;
        const end = key0 + keys;
        for (let c = Math.floor(key0 / unit); c * unit < end; c++) {
          const slot = n * childrenPer + c;
          let m = best[slot] as number;
          const last = Math.min(end, c * unit + (keyCount[slot] as number));
          for (let key = Math.max(key0, c * unit); key < last; key++) {
            const from = at + (key - key0) * rowsPer;
            for (let p = from; p < from + rows; p++) {
              const v = scores[p] as number;
              if (v > m) m = v;
            }
          }
          best[slot] = m;
        }
      },
      SCORES_PER_CALL,
    );
    group.forEach((s, n) => {
      const kids = children[n] as Int32Array;
      const keep = topIndices(best, n * childrenPer, n * childrenPer + kids.length / 2, k);
      const next = new Int32Array(2 * keep.length);
      keep.forEach((c, j) => {
        next[2 * j] = kids[2 * (c - n * childrenPer)] as number;
        next[2 * j + 1] = kids[2 * (c - n * childrenPer) + 1] as number;
      });
      s.nodes = next;
    });
  }
}

/** Splits every node of more than one unit into halves; single units stay as they are. */
function split(nodes: Int32Array): Int32Array {
  const out: number[] = [];
  for (let j = 0; j < nodes.length; j += 2) {
    const a = nodes[j] as number;
    const b = nodes[j + 1] as number;
    if (b - a <= 1) out.push(a, b);
    else {
      const m = Math.floor((a + b) / 2);
      out.push(a, m, m, b);
    }
  }
  return Int32Array.from(out);
}
