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
    // The call's key list, reused by every iteration (fresh memory is slow to touch; the list only shrinks).
    const scorers = { ...stridedRows(shape.qLength, blocks, params.blockStrideQ), indices: new Int32Array(0) };
    let active = searches.filter(needsSplit);
    while (active.length > 0) {
      await refine(active, input, ctx, blocks, scorers, unit, k, params.blockStrideQ, dim);
      active = active.filter(needsSplit);
    }
    const byRow: Search[] = new Array(heads * blocks.count);
    for (const s of searches) byRow[s.h * blocks.count + s.qb] = s;
    for (const s of dense) byRow[s.h * blocks.count + s.qb] = s;
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      row.addKeys(0, params.sinkTokens);
      row.addKeys(blocks.firstPos(qb) - params.windowTokens + 1, blocks.lastPos(qb) + 1);
      const s = byRow[h * blocks.count + qb] as Search;
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

/** The strided query rows of every block (the same for every head), grouped by block: HiP's scoring rows. */
function stridedRows(qLength: number, blocks: QueryBlocks, stride: number): { rows: Int32Array; groups: Int32Array } {
  const rows = new IntList(Math.ceil(qLength / stride) + blocks.count);
  const groups = new Int32Array(blocks.count + 1);
  for (let qb = 0; qb < blocks.count; qb++) {
    for (let i = blocks.firstRow(qb); i < blocks.endRow(qb); i += stride) rows.push(i);
    groups[qb + 1] = rows.length;
  }
  return { rows: rows.toArray(), groups };
}

/** An active search's children for one iteration and where their centre keys end in the call's key list. */
interface Children {
  readonly search: Search;
  readonly kids: Int32Array;
  readonly childEnd: Int32Array;
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
  scorers: { rows: Int32Array; groups: Int32Array; indices: Int32Array },
  unit: number,
  k: number,
  stride: number,
  dim: number,
): Promise<void> {
  const { shape } = input;
  const slots = shape.heads * blocks.count;
  // Children of every active search, by (head, block) slot; the call lists at most `unit` centre keys per child.
  const bySlot: (Children | undefined)[] = new Array(slots);
  let listed = 0;
  for (const s of active) {
    const kids = split(s.nodes);
    bySlot[s.h * blocks.count + s.qb] = { search: s, kids, childEnd: new Int32Array(kids.length / 2) };
    listed += (kids.length / 2) * unit;
  }
  const offsets = new Int32Array(slots + 1);
  if (scorers.indices.length < listed) scorers.indices = new Int32Array(listed);
  const indices = scorers.indices;
  let n = 0;
  for (let slot = 0; slot < slots; slot++) {
    const entry = bySlot[slot];
    if (entry) {
      const { search: s, kids, childEnd } = entry;
      const end = s.origin + s.length;
      for (let c = 0; c < childEnd.length; c++) {
        const centre = Math.floor(((kids[2 * c] as number) + (kids[2 * c + 1] as number) - 1) / 2);
        const k0 = s.origin + centre * unit;
        const k1 = Math.min(end, k0 + unit);
        for (let key = k0; key < k1; key++) indices[n++] = key;
        childEnd[c] = n;
      }
    }
    offsets[slot + 1] = n;
  }
  const { columnMax } = await ctx.backend.scores(
    { q: input.q, k: input.k, qOffset: shape.qOffset },
    {
      causal: false,
      rows: scorers.rows,
      keys: { groups: scorers.groups, offsets, indices: indices.subarray(0, n) },
      reduce: { columnMax: true },
    },
  );
  if (!columnMax) throw new Error('hip: the backend returned no column maxima');
  // Counted as before the in-kernel reduction: every search scores 2k children's units against its strided rows.
  ctx.cost.add(dotFlops(active.length * 2 * k * unit * Math.ceil(ctx.blockQ / stride), dim), 'estimate');
  const best = new Float64Array(2 * k);
  for (let slot = 0; slot < slots; slot++) {
    const entry = bySlot[slot];
    if (!entry) continue;
    const { search: s, kids, childEnd } = entry;
    const children = childEnd.length;
    let p = offsets[slot] as number;
    for (let c = 0; c < children; c++) {
      let m = -Infinity;
      for (const stop = childEnd[c] as number; p < stop; p++) if ((columnMax[p] as number) > m) m = columnMax[p] as number;
      best[c] = m;
    }
    const keep = topIndices(best, 0, children, k);
    const next = new Int32Array(2 * keep.length);
    for (let j = 0; j < keep.length; j++) {
      const c = keep[j] as number;
      next[2 * j] = kids[2 * c] as number;
      next[2 * j + 1] = kids[2 * c + 1] as number;
    }
    s.nodes = next;
  }
}

/** Splits every node of more than one unit into halves; single units stay as they are. */
function split(nodes: Int32Array): Int32Array {
  let count = 0;
  for (let j = 0; j < nodes.length; j += 2) count += (nodes[j + 1] as number) - (nodes[j] as number) > 1 ? 2 : 1;
  const out = new Int32Array(2 * count);
  let o = 0;
  for (let j = 0; j < nodes.length; j += 2) {
    const a = nodes[j] as number;
    const b = nodes[j + 1] as number;
    if (b - a <= 1) {
      out[o++] = a;
      out[o++] = b;
    } else {
      const m = Math.floor((a + b) / 2);
      out[o++] = a;
      out[o++] = m;
      out[o++] = m;
      out[o++] = b;
    }
  }
  return out;
}
