import { defineEstimator } from '@sparseland/core';
import { type EstimatorContext, type EstimatorInput, IntList, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { dotFlops } from '../common/flops.js';
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

/**
 * One iteration for every active search: split, score the children's centre keys, keep the top k. One backend call
 * scores every search: its block's strided query rows form a group whose listed keys are the centre keys of its
 * children, and the backend returns each key's maximum over the group's rows (column maxima).
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
  // The strided rows of every block (the same for every head), grouped by block.
  const rows = new IntList(Math.ceil(shape.qLength / stride) + blocks.count);
  const groups = new Int32Array(blocks.count + 1);
  for (let qb = 0; qb < blocks.count; qb++) {
    for (let i = blocks.firstRow(qb); i < blocks.endRow(qb); i += stride) rows.push(i);
    groups[qb + 1] = rows.length;
  }
  // Centre keys of every active search's children, listed per (head, block); childEnd[c] ends child c's keys.
  const bySlot = new Map<number, { search: Search; kids: Int32Array; childEnd: Int32Array }>();
  for (const s of active) {
    const kids = split(s.nodes);
    bySlot.set(s.h * blocks.count + s.qb, { search: s, kids, childEnd: new Int32Array(kids.length / 2) });
  }
  const offsets = new Int32Array(shape.heads * blocks.count + 1);
  const indices = new IntList(active.length * 2 * k * unit);
  for (let slot = 0; slot < shape.heads * blocks.count; slot++) {
    const entry = bySlot.get(slot);
    if (entry) {
      const { search: s, kids, childEnd } = entry;
      for (let c = 0; c < kids.length / 2; c++) {
        const centre = Math.floor(((kids[2 * c] as number) + (kids[2 * c + 1] as number) - 1) / 2);
        const k0 = s.origin + centre * unit;
        const k1 = Math.min(s.origin + s.length, k0 + unit);
        for (let key = k0; key < k1; key++) indices.push(key);
        childEnd[c] = indices.length;
      }
    }
    offsets[slot + 1] = indices.length;
  }
  const { columnMax } = await ctx.backend.scores(
    { q: input.q, k: input.k, qOffset: shape.qOffset },
    { causal: false, rows: rows.toArray(), keys: { groups, offsets, indices: indices.view() }, reduce: { columnMax: true } },
  );
  if (!columnMax) throw new Error('hip: the backend returned no column maxima');
  // Counted as before the in-kernel reduction: every search scores 2k children's units against its strided rows.
  ctx.cost.add(dotFlops(active.length * 2 * k * unit * Math.ceil(ctx.blockQ / stride), dim), 'estimate');
  const best = new Float64Array(2 * k);
  for (const { search: s, kids, childEnd } of bySlot.values()) {
    const children = kids.length / 2;
    let p = offsets[s.h * blocks.count + s.qb] as number;
    for (let c = 0; c < children; c++) {
      let m = -Infinity;
      for (; p < (childEnd[c] as number); p++) if ((columnMax[p] as number) > m) m = columnMax[p] as number;
      best[c] = m;
    }
    const keep = topIndices(best, 0, children, k);
    const next = new Int32Array(2 * keep.length);
    keep.forEach((c, j) => {
      next[2 * j] = kids[2 * c] as number;
      next[2 * j + 1] = kids[2 * c + 1] as number;
    });
    s.nodes = next;
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
