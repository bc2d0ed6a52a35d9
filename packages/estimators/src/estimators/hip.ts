import { defineEstimator } from '@sparseland/core';
import { type EstimatorContext, type EstimatorInput, IntList, intParam, type ScoreInput } from '@sparseland/core/kit';
import { z } from 'zod';
import { dotFlops } from '../common/flops.js';
import { QueryBlocks } from '../common/geometry.js';
import { SparseMaskBuilder } from '../common/mask-builder.js';
import { topIndicesInto } from '../common/select.js';
import { type HeadLane, headHalves } from '../common/sub-input.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * One query block's tree search. Its current nodes are entries [base, base + count) of the call's `NodeTable`; the
 * nodes stay in key order, at most k of them.
 */
interface Search {
  readonly h: number;
  readonly qb: number;
  /** First key of the searched range (after the sink). */
  readonly origin: number;
  /** Keys in the searched range. */
  readonly length: number;
  readonly base: number;
  count: number;
}

/**
 * Every search's nodes as [start, end) ranges of leaf units, with the score that kept each node (the maximum over
 * its centre keys; NaN before a node is scored). A node's score is reused by the child that has the same centre,
 * which the last splits (nodes of 2 to 4 units) and unsplit leaves always have: those children are not scored again.
 */
interface NodeTable {
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly score: Float32Array;
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
  build: (params) => {
    // Buffers of finished tree searches, taken by the next ones. At most one call's worth is kept (its two searches):
    // more calls at once allocate their own, which are dropped when they end.
    const spare: TreeBuffers[] = [];
    return async (input, ctx) => {
      const { shape, causal } = input;
      const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
      const builder = new SparseMaskBuilder(shape, ctx, { causal });
      // Two independent searches over halves of the heads: while the backend scores one half's children, this thread
      // selects the other half's (on two cores the selection would otherwise leave the backend's threads idle). The
      // second half starts once the first half's first call is under way, and each half's rows go into the mask as
      // soon as its search ends, while the other half's last call computes.
      await Promise.all(
        headHalves(input).map(async (lane, i) => {
          if (i > 0) await nextTask();
          const buffers = spare.pop() ?? new TreeBuffers();
          try {
            addRows(builder, lane, await treeSearch(lane.input, ctx, blocks, params, buffers), blocks, params);
          } finally {
            if (spare.length < MAX_SPARE_BUFFERS) spare.push(buffers);
          }
        }),
      );
      return builder.finish();
    };
  },
});

/**
 * The mask rows of one lane's heads: the sink, the leaves of each block's search and the sliding window, added in
 * that order, which is key order (the leaves lie between the sink and the window, in key order), so the builder
 * finds each row's columns sorted and does not sort them (the window first cost a sort of ~512 keys per row).
 */
function addRows(
  builder: SparseMaskBuilder,
  lane: HeadLane,
  tree: { searches: Search[]; nodes: NodeTable },
  blocks: QueryBlocks,
  params: HipParams,
): void {
  const { start, end } = tree.nodes;
  for (let h = 0; h < lane.input.shape.heads; h++) {
    for (let qb = 0; qb < blocks.count; qb++) {
      builder.row(lane.firstHead + h, qb, (row) => {
        row.addKeys(0, params.sinkTokens);
        const s = tree.searches[h * blocks.count + qb] as Search;
        for (let j = s.base; j < s.base + s.count; j++) {
          const a = s.origin + (start[j] as number) * params.blockSizeK;
          const b = Math.min(s.origin + s.length, s.origin + (end[j] as number) * params.blockSizeK);
          row.addKeys(a, b);
        }
        row.addKeys(blocks.firstPos(qb) - params.windowTokens + 1, blocks.lastPos(qb) + 1);
      });
    }
  }
}

/** Tree-search buffers a built HiP keeps between calls: the two searches (head halves) of one call. */
const MAX_SPARE_BUFFERS = 2;

/** Resolves after the calls already queued have started (a macrotask: every pending microtask runs first). */
function nextTask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

export const hip = withRettention(method);

interface HipParams {
  readonly maskK: number;
  readonly blockSizeK: number;
  readonly blockStrideQ: number;
  readonly sinkTokens: number;
  readonly windowTokens: number;
}

/** The tree searches of every (head, query block) of `input`, run to the leaves: search h·blocks + qb. */
async function treeSearch(
  input: EstimatorInput,
  ctx: EstimatorContext,
  blocks: QueryBlocks,
  params: HipParams,
  buffers: TreeBuffers,
): Promise<{ searches: Search[]; nodes: NodeTable }> {
  const { heads, kvLength, dim } = input.shape;
  const unit = params.blockSizeK;
  const k = Math.max(1, Math.floor(params.maskK / unit));
  const searches: Search[] = [];
  let total = 0;
  for (let h = 0; h < heads; h++) {
    for (let qb = 0; qb < blocks.count; qb++) {
      const origin = Math.min(params.sinkTokens, kvLength);
      const end = Math.max(origin, Math.min(blocks.lastKey(qb) + 1, blocks.firstPos(qb) - params.windowTokens + 1));
      const count = Math.min(k, Math.ceil((end - origin) / unit));
      searches.push({ h, qb, origin, length: end - origin, base: total, count });
      total += count;
    }
  }
  // A range of `units` leaves starts as min(k, units) equal nodes (single leaves when it has no more than k).
  const nodes = buffers.nodes(total);
  for (const s of searches) {
    const units = Math.ceil(s.length / unit);
    for (let j = 0; j < s.count; j++) {
      nodes.start[s.base + j] = Math.floor((j * units) / s.count);
      nodes.end[s.base + j] = Math.floor(((j + 1) * units) / s.count);
    }
  }
  const scorers: Scorers = { ...stridedRows(input.shape.qLength, blocks, params.blockStrideQ), buffers };
  const scratch: SelectScratch = {
    best: new Float64Array(2 * k),
    kidA: new Int32Array(2 * k),
    kidB: new Int32Array(2 * k),
    keep: new Int32Array(k),
    select: new Float64Array(2 * k),
  };
  const split = (s: Search) => needsSplit(s, nodes);
  // Every level scores the same queries and keys: a backend that can keeps one copy of them for the whole search.
  const plain: ScoreInput = { q: input.q, k: input.k, qOffset: input.shape.qOffset };
  const prepared = ctx.backend.prepareScoreInput?.(plain);
  try {
    let active = searches.filter(split);
    while (active.length > 0) {
      await refine(active, prepared ?? plain, input, ctx, blocks, scorers, nodes, unit, k, dim, scratch);
      active = active.filter(split);
    }
  } finally {
    prepared?.release();
  }
  return { searches, nodes };
}

function needsSplit(s: Search, nodes: NodeTable): boolean {
  for (let j = s.base; j < s.base + s.count; j++) if ((nodes.end[j] as number) - (nodes.start[j] as number) > 1) return true;
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

/** The centre leaf of node [a, b): its first `unit` keys (those before the range's end) represent the node. */
function centreUnit(a: number, b: number): number {
  return (a + b - 1) >> 1;
}

/** Keys of child [a, b)'s centre leaf before `end` (from origin + centreUnit·unit). */
function centreKeys(origin: number, a: number, b: number, unit: number, end: number): number {
  const k0 = origin + centreUnit(a, b) * unit;
  return Math.min(end, k0 + unit) - k0;
}

/** Lists child [a, b)'s centre keys at indices[n...]; returns the new length. */
function listCentre(indices: Int32Array, n: number, origin: number, a: number, b: number, unit: number, end: number): number {
  const k0 = origin + centreUnit(a, b) * unit;
  const k1 = Math.min(end, k0 + unit);
  for (let key = k0; key < k1; key++) indices[n++] = key;
  return n;
}

/** The largest of columnMax[p, p + count); a NaN loses to any number (all NaN or none: NaN or -Infinity, never kept). */
export function maxOf(columnMax: Float32Array, p: number, count: number): number {
  if (count === 2) {
    // A child's two centre keys (blockSizeK 2): the larger is picked by index, without a branch on the values (the
    // loop's comparison is a coin flip for the branch predictor: ~8 ns per child against ~1 ns).
    const x = columnMax[p] as number;
    const y = columnMax[p + 1] as number;
    return columnMax[p + (Number(y > x) | Number(Number.isNaN(x)))] as number;
  }
  let m = Number.NEGATIVE_INFINITY;
  for (let i = p; i < p + count; i++) if ((columnMax[i] as number) > m) m = columnMax[i] as number;
  return m;
}

/** A half's scoring rows, grouped by query block, and the buffers its key lists and column maxima go into. */
interface Scorers {
  readonly rows: Int32Array;
  readonly groups: Int32Array;
  readonly buffers: TreeBuffers;
}

/**
 * The large arrays of one tree search: its node table, key list and column maxima. They are reused by every
 * iteration and, through the method's spare list, by later builds, and only grow: on this VM first touching fresh
 * memory costs about 3 ms per MiB, and a 32K search lists 8 MiB of keys and gets 8 MiB of maxima back (in-process
 * alternating builds: 5 % faster than allocating them per build). A built HiP keeps MAX_SPARE_BUFFERS of them.
 */
class TreeBuffers {
  indices = new Int32Array(0);
  columnMax = new Float32Array(0);
  private start = new Int32Array(0);
  private end = new Int32Array(0);
  private score = new Float32Array(0);

  /** A node table with room for `total` nodes, every score NaN (not yet scored). */
  nodes(total: number): NodeTable {
    if (this.start.length < total) {
      this.start = new Int32Array(total);
      this.end = new Int32Array(total);
      this.score = new Float32Array(total);
    }
    this.score.fill(Number.NaN, 0, total);
    return { start: this.start, end: this.end, score: this.score };
  }

  /** Room for `listed` keys and their maxima. */
  reserve(listed: number): void {
    if (this.indices.length >= listed) return;
    this.indices = new Int32Array(listed);
    this.columnMax = new Float32Array(listed);
  }
}

/**
 * One iteration for every active search: split, score the children's centre keys, keep the top k. One backend call
 * scores every search: its block's strided query rows form a group whose listed keys are the centre keys of its
 * children, and the backend returns each key's maximum over the group's rows (column maxima). A node of one unit is
 * its own child; a child with its parent's centre takes the parent's score and is not listed. Children are derived
 * from the nodes in order, the same way when listing and when reading the maxima back, so nothing per child is
 * kept across the call.
 */
async function refine(
  active: Search[],
  scoreInput: ScoreInput,
  input: EstimatorInput,
  ctx: EstimatorContext,
  blocks: QueryBlocks,
  scorers: Scorers,
  nodes: NodeTable,
  unit: number,
  k: number,
  dim: number,
  scratch: SelectScratch,
): Promise<void> {
  const { shape } = input;
  const bySlot: (Search | undefined)[] = new Array(shape.heads * blocks.count);
  let listed = 0;
  for (const s of active) {
    bySlot[s.h * blocks.count + s.qb] = s;
    listed += 2 * s.count * unit;
  }
  const { buffers } = scorers;
  buffers.reserve(listed);
  const offsets = new Int32Array(bySlot.length + 1);
  const pairs = listChildren(bySlot, nodes, unit, scorers, offsets);
  const { columnMax } = await ctx.backend.scores(scoreInput, {
    causal: false,
    rows: scorers.rows,
    keys: { groups: scorers.groups, offsets, indices: buffers.indices.subarray(0, offsets[bySlot.length]) },
    reduce: { columnMax: true },
    into: { columnMax: buffers.columnMax },
  });
  if (!columnMax) throw new Error('hip: the backend returned no column maxima');
  ctx.cost.add(dotFlops(pairs, dim), 'estimate');
  for (let slot = 0; slot < bySlot.length; slot++) {
    const s = bySlot[slot];
    if (s) keepBest(s, nodes, unit, k, columnMax, offsets[slot] as number, scratch);
  }
}

/**
 * Lists the centre keys of every active search's children that need scoring (slot by slot, into scorers.indices,
 * with the slot offsets); returns the (row, key) pairs the call will score.
 */
function listChildren(bySlot: (Search | undefined)[], nodes: NodeTable, unit: number, scorers: Scorers, offsets: Int32Array): number {
  const { start, end: stop, score } = nodes;
  const { groups } = scorers;
  const { indices } = scorers.buffers;
  let n = 0;
  let pairs = 0;
  for (let slot = 0; slot < bySlot.length; slot++) {
    const s = bySlot[slot];
    if (s) {
      const { origin } = s;
      const end = origin + s.length;
      const from = n;
      for (let j = s.base; j < s.base + s.count; j++) {
        const a = start[j] as number;
        const b = stop[j] as number;
        const known = !Number.isNaN(score[j] as number);
        if (b - a <= 1) {
          if (!known) n = listCentre(indices, n, origin, a, b, unit, end);
        } else {
          const parent = centreUnit(a, b);
          const m = (a + b) >> 1;
          if (!known || centreUnit(a, m) !== parent) n = listCentre(indices, n, origin, a, m, unit, end);
          if (!known || centreUnit(m, b) !== parent) n = listCentre(indices, n, origin, m, b, unit, end);
        }
      }
      pairs += (n - from) * ((groups[s.qb + 1] as number) - (groups[s.qb] as number));
    }
    offsets[slot + 1] = n;
  }
  return pairs;
}

/**
 * Scores search s's children (from its listed column maxima, read from columnMax[p...] in listing order, or its
 * parent's score) and replaces its nodes by the k best children, in key order.
 */
function keepBest(s: Search, nodes: NodeTable, unit: number, k: number, columnMax: Float32Array, p: number, scratch: SelectScratch): void {
  const { start, end: stop, score } = nodes;
  const { best, kidA, kidB, keep, select } = scratch;
  const { origin, base } = s;
  const end = origin + s.length;
  let children = 0;
  // The one or two children of each node are written out, as in listChildren: a loop over them with a shared
  // reuse test ran ~6 % slower at 32K.
  for (let j = base; j < base + s.count; j++) {
    const a = start[j] as number;
    const b = stop[j] as number;
    const own = score[j] as number;
    const known = !Number.isNaN(own);
    if (b - a <= 1) {
      if (known) best[children] = own;
      else {
        const count = centreKeys(origin, a, b, unit, end);
        best[children] = maxOf(columnMax, p, count);
        p += count;
      }
      kidA[children] = a;
      kidB[children++] = b;
      continue;
    }
    const parent = centreUnit(a, b);
    const m = (a + b) >> 1;
    if (known && centreUnit(a, m) === parent) best[children] = own;
    else {
      const count = centreKeys(origin, a, m, unit, end);
      best[children] = maxOf(columnMax, p, count);
      p += count;
    }
    kidA[children] = a;
    kidB[children++] = m;
    if (known && centreUnit(m, b) === parent) best[children] = own;
    else {
      const count = centreKeys(origin, m, b, unit, end);
      best[children] = maxOf(columnMax, p, count);
      p += count;
    }
    kidA[children] = m;
    kidB[children++] = b;
  }
  const kept = topIndicesInto(best, 0, children, k, keep, select);
  for (let j = 0; j < kept; j++) {
    const c = keep[j] as number;
    start[base + j] = kidA[c] as number;
    stop[base + j] = kidB[c] as number;
    score[base + j] = best[c] as number;
  }
  s.count = kept;
}
