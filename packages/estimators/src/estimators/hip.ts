import { defineEstimator } from '@sparseland/core';
import { type EstimatorContext, type EstimatorInput, IntList, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { dotFlops } from '../common/flops.js';
import { QueryBlocks } from '../common/geometry.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { topIndicesInto } from '../common/select.js';
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
  /** The current nodes as [start, end) unit pairs: a view of `buffer`. */
  nodes: Int32Array;
  /** Refined searches hold k nodes at most: two buffers of 2k ints, the next level written to the spare one. */
  buffer: Int32Array;
  spare?: Int32Array;
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
        (units <= k ? dense : searches).push({ h, qb, origin, length: end - origin, nodes, buffer: nodes });
      }
    }
    // The call's key list, reused by every iteration (fresh memory is slow to touch; the list only shrinks).
    const scorers = { ...stridedRows(shape.qLength, blocks, params.blockStrideQ), indices: new Int32Array(0) };
    const scratch: SelectScratch = {
      best: new Float64Array(2 * k),
      kidA: new Int32Array(2 * k),
      kidB: new Int32Array(2 * k),
      keep: new Int32Array(k),
      select: new Float64Array(2 * k),
    };
    let active = searches.filter(needsSplit);
    while (active.length > 0) {
      await refine(active, input, ctx, blocks, scorers, unit, k, params.blockStrideQ, dim, scratch);
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

/** Per-call buffers of the selection step, reused by every search of every iteration. */
interface SelectScratch {
  readonly best: Float64Array;
  readonly kidA: Int32Array;
  readonly kidB: Int32Array;
  readonly keep: Int32Array;
  readonly select: Float64Array;
}

/** First centre key of child [a, b) (units from `origin`); its centre keys are [that, min(end, that + unit)). */
function centreKey(origin: number, a: number, b: number, unit: number): number {
  return origin + ((a + b - 1) >> 1) * unit;
}

/** Lists child [a, b)'s centre keys (at most `unit`, before `end`) at indices[n...]; returns the new length. */
function listCentre(indices: Int32Array, n: number, origin: number, a: number, b: number, unit: number, end: number): number {
  const k0 = centreKey(origin, a, b, unit);
  const k1 = Math.min(end, k0 + unit);
  for (let key = k0; key < k1; key++) indices[n++] = key;
  return n;
}

/**
 * One iteration for every active search: split, score the children's centre keys, keep the top k. One backend call
 * scores every search: its block's strided query rows form a group whose listed keys are the centre keys of its
 * children, and the backend returns each key's maximum over the group's rows (column maxima). Children are split
 * off each node in order (halves of a node of more than one unit, the node itself otherwise), the same way when
 * listing and when reading the maxima back, so nothing per child is kept across the call.
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
  scratch: SelectScratch,
): Promise<void> {
  const { shape } = input;
  const slots = shape.heads * blocks.count;
  const bySlot: (Search | undefined)[] = new Array(slots);
  let listed = 0;
  for (const s of active) {
    bySlot[s.h * blocks.count + s.qb] = s;
    listed += 2 * (s.nodes.length / 2) * unit;
  }
  const offsets = new Int32Array(slots + 1);
  if (scorers.indices.length < listed) scorers.indices = new Int32Array(listed);
  const indices = scorers.indices;
  let n = 0;
  for (let slot = 0; slot < slots; slot++) {
    const s = bySlot[slot];
    if (s) {
      const end = s.origin + s.length;
      const nodes = s.nodes;
      for (let j = 0; j < nodes.length; j += 2) {
        const a = nodes[j] as number;
        const b = nodes[j + 1] as number;
        if (b - a <= 1) n = listCentre(indices, n, s.origin, a, b, unit, end);
        else {
          const m = (a + b) >> 1;
          n = listCentre(indices, n, s.origin, a, m, unit, end);
          n = listCentre(indices, n, s.origin, m, b, unit, end);
        }
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
  const { best, kidA, kidB, keep, select } = scratch;
  for (let slot = 0; slot < slots; slot++) {
    const s = bySlot[slot];
    if (!s) continue;
    const end = s.origin + s.length;
    const nodes = s.nodes;
    let p = offsets[slot] as number;
    let children = 0;
    // A child's score: the largest column maximum of its listed centre keys (as many as listCentre listed).
    const child = (a: number, b: number): void => {
      const k0 = centreKey(s.origin, a, b, unit);
      const stop = p + Math.max(0, Math.min(end, k0 + unit) - k0);
      let m = -Infinity;
      for (; p < stop; p++) if ((columnMax[p] as number) > m) m = columnMax[p] as number;
      best[children] = m;
      kidA[children] = a;
      kidB[children] = b;
      children++;
    };
    for (let j = 0; j < nodes.length; j += 2) {
      const a = nodes[j] as number;
      const b = nodes[j + 1] as number;
      if (b - a <= 1) child(a, b);
      else {
        const m = (a + b) >> 1;
        child(a, m);
        child(m, b);
      }
    }
    const kept = topIndicesInto(best, 0, children, k, keep, select);
    const next = s.spare ?? new Int32Array(2 * k);
    for (let j = 0; j < kept; j++) {
      const c = keep[j] as number;
      next[2 * j] = kidA[c] as number;
      next[2 * j + 1] = kidB[c] as number;
    }
    s.spare = s.buffer;
    s.buffer = next;
    s.nodes = next.subarray(0, 2 * kept);
  }
}
