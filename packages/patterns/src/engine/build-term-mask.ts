import { BlockMask, ColumnMask, type MaskMod, type MaskShape, type SparseMask } from '@sparseland/core';
import { buildBlockMask, type IntList, type MaskBuildOptions } from '@sparseland/core/kit';
import { unionCoverage } from './classify.js';
import { forEachRun, type IntSet, mergeIntervals } from './int-set.js';
import { Coverage, type Term } from './term.js';

/** A pattern as terms: one list per distinct head behaviour, and which behaviour each query head has. */
export interface TermLayout {
  readonly classes: readonly (readonly Term[])[];
  /** Behaviour of query head h; absent when every head behaves the same (the mask is then one broadcast head). */
  readonly classOf?: ((h: number) => number) | undefined;
}

/** Most column entries a mask may gather (4 bytes each); past it narrow columns stay in partial blocks. */
const COLUMN_BUDGET = 2 ** 24;

/**
 * Builds the BlockMask of a pattern from its terms without visiting pairs: each term names the key ranges its rows
 * can reach, and only those blocks are classified (full / partial / empty, exactly as createBlockMask would).
 * Cost: O(candidate blocks · terms), never O(qLength · kvLength). Heads that behave alike are built once; a mask
 * whose heads all behave alike is stored as one broadcast head. `maskMod` is the pattern's exact definition, used by
 * kernels inside partial blocks.
 */
export function buildTermMask(shape: MaskShape, sizes: MaskBuildOptions, layout: TermLayout, maskMod: MaskMod): BlockMask {
  return buildBlocks(shape, sizes, layout, maskMod, new Set());
}

/**
 * Like buildTermMask, but narrow column terms (runs of at most blockK / 4 keys: attention sinks, summary columns,
 * grid lines, global tokens) go to a ColumnMask: each query block lists the columns all its rows keep, so kernels
 * gather those keys instead of computing the partial blocks they cross. Blocks then hold what the columns do not:
 * a block is full when every pair is kept, partial when it keeps a pair outside the columns, skipped otherwise.
 */
export function buildTermSparseMask(shape: MaskShape, sizes: MaskBuildOptions, layout: TermLayout, maskMod: MaskMod): SparseMask {
  const moved = columnTermsToGather(shape, sizes, layout);
  const blocks = buildBlocks(shape, sizes, layout, maskMod, moved);
  if (moved.size === 0) return { blocks };
  return { blocks, columns: gatherColumns(shape, sizes, layout, moved) };
}

function headClasses(shape: MaskShape, layout: TermLayout): number[] {
  return layout.classOf ? Array.from({ length: shape.heads }, (_, h) => (layout.classOf as (h: number) => number)(h)) : [0];
}

/** The narrow column terms worth gathering one by one, if all their columns fit the budget (else none). */
function columnTermsToGather(shape: MaskShape, sizes: MaskBuildOptions, layout: TermLayout): Set<Term> {
  const widest = Math.max(1, Math.floor(sizes.blockK / 4));
  const owner = headClasses(shape, layout);
  const storedHeads = new Set(owner).size === 1 ? 1 : owner.length;
  const qBlocks = Math.ceil(shape.qLength / sizes.blockQ);
  const chosen = new Set<Term>();
  let entries = 0;
  for (const c of new Set(owner)) {
    let classEntries = 0;
    for (const t of layout.classes[c] ?? []) {
      if (!t.columns) continue;
      let width = 0;
      let members = 0;
      forEachRun(t.columns.keys, 0, shape.kvLength - 1, (a, b) => {
        width = Math.max(width, b - a + 1);
        members += b - a + 1;
      });
      if (members === 0 || width > widest) continue;
      chosen.add(t);
      classEntries += members * qBlocks;
    }
    entries += classEntries * (storedHeads === 1 ? 1 : owner.filter((o) => o === c).length);
  }
  return entries <= COLUMN_BUDGET ? chosen : new Set();
}

/** Row (h, qb) of the ColumnMask: the gathered columns every row of the query block keeps. */
function gatherColumns(shape: MaskShape, sizes: MaskBuildOptions, layout: TermLayout, moved: ReadonlySet<Term>): ColumnMask {
  const owner = headClasses(shape, layout);
  const broadcast = new Set(owner).size === 1;
  const gathered = layout.classes.map((terms) => terms.filter((t) => moved.has(t)));
  return ColumnMask.build(shape, sizes.blockQ, { heads: broadcast ? 1 : shape.heads, trusted: true }, (h, qb, out) => {
    const terms = gathered[owner[broadcast ? 0 : h] as number] ?? [];
    const q0 = shape.qOffset + qb * sizes.blockQ;
    const runs: [number, number][] = [];
    for (const t of terms) {
      const c = t.columns as { keys: IntSet; causal: boolean };
      forEachRun(c.keys, 0, c.causal ? Math.min(shape.kvLength - 1, q0) : shape.kvLength - 1, (a, b) => runs.push([a, b]));
    }
    if (terms.length === 1) for (const [a, b] of runs) out.pushRange(a, b + 1);
    else {
      const merged = mergeIntervals(runs);
      for (let i = 0; i < merged.starts.length; i++) out.pushRange(merged.starts[i] as number, (merged.ends[i] as number) + 1);
    }
  });
}

function buildBlocks(shape: MaskShape, sizes: MaskBuildOptions, layout: TermLayout, maskMod: MaskMod, moved: ReadonlySet<Term>): BlockMask {
  const owner = headClasses(shape, layout);
  const distinct = [...new Set(owner)];
  const perClass = new Map<number, BlockMask>();
  for (const c of distinct) {
    const fill = classRowFiller(layout.classes[c] ?? [], shape, sizes, moved);
    perClass.set(
      c,
      buildBlockMask(shape, sizes, { heads: 1, maskMod, trusted: true }, (_h, qb, full, partial) => fill(qb, full, partial)),
    );
  }
  if (distinct.length === 1) return perClass.get(distinct[0] as number) as BlockMask;
  return stackHeads(
    shape,
    owner.map((c) => perClass.get(c) as BlockMask),
    maskMod,
  );
}

/** One multi-head BlockMask whose head h is the broadcast mask `heads[h]` (rows are head-major, so one copy each). */
function stackHeads(shape: MaskShape, heads: readonly BlockMask[], maskMod: MaskMod): BlockMask {
  const first = heads[0] as BlockMask;
  const { qBlocks } = first;
  const stack = (pick: (m: BlockMask) => { rowPtr: Int32Array; cols: Int32Array }) => {
    const total = heads.reduce((n, m) => n + pick(m).cols.length, 0);
    const rowPtr = new Int32Array(heads.length * qBlocks + 1);
    const cols = new Int32Array(total);
    let offset = 0;
    heads.forEach((m, h) => {
      const part = pick(m);
      cols.set(part.cols, offset);
      for (let qb = 1; qb <= qBlocks; qb++) rowPtr[h * qBlocks + qb] = offset + (part.rowPtr[qb] as number);
      offset += part.cols.length;
    });
    return { rowPtr, cols };
  };
  return new BlockMask(
    {
      heads: heads.length,
      qLength: shape.qLength,
      kvLength: shape.kvLength,
      qOffset: shape.qOffset,
      blockQ: first.blockQ,
      blockK: first.blockK,
      full: stack((m) => m.full),
      partial: stack((m) => m.partial),
      maskMod,
    },
    { trusted: true },
  );
}

type RowFiller = (qb: number, full: IntList, partial: IntList) => void;

/**
 * Fills one query-block row of a class: marks the key blocks each term's ranges reach (with which terms reached
 * them), then classifies them in ascending order. A block reached by one term only needs that term's coverage.
 * Terms in `moved` are gathered as columns: they only reach blocks through keys after the block's first query.
 */
function classRowFiller(terms: readonly Term[], shape: MaskShape, sizes: MaskBuildOptions, moved: ReadonlySet<Term>): RowFiller {
  const { blockQ, blockK } = sizes;
  const { kvLength, qOffset, qLength } = shape;
  const kBlocks = Math.ceil(kvLength / blockK);
  const stamp = new Int32Array(kBlocks).fill(-1);
  const reachedBy = new Int32Array(kBlocks);
  let touched = new Int32Array(64);
  let count = 0;
  let ascending = true;
  let lowest = 0;
  let highest = 0;
  let row = 0;
  let term = 0;
  let firstQuery = 0;
  const sink = (a: number, b: number) => {
    const bit = 1 << (term & 31);
    for (let kb = Math.floor(a / blockK), last = Math.floor(b / blockK); kb <= last; kb++) {
      if (stamp[kb] === row) {
        reachedBy[kb] = (reachedBy[kb] as number) | bit;
        continue;
      }
      stamp[kb] = row;
      reachedBy[kb] = bit;
      if (count === touched.length) {
        const grown = new Int32Array(count * 2);
        grown.set(touched);
        touched = grown;
      }
      if (count > 0 && kb < (touched[count - 1] as number)) ascending = false;
      if (kb < lowest) lowest = kb;
      if (kb > highest) highest = kb;
      touched[count++] = kb;
    }
  };
  // Gathered causal columns still reach blocks through keys after the block's first query (rows differ there).
  const afterFirstQuery = (a: number, b: number) => {
    if (Math.max(a, firstQuery + 1) <= b) sink(Math.max(a, firstQuery + 1), b);
  };
  const single = terms.length === 1 && moved.size === 0 ? (terms[0] as Term) : undefined;
  // Which terms reached a block is kept as bits; past 31 terms every block takes the general path.
  const bitsUsable = terms.length <= 31;
  const gathered = terms.filter((t) => moved.has(t));
  return (qb, full, partial) => {
    const q0 = qOffset + qb * blockQ;
    const q1 = qOffset + Math.min(qLength, (qb + 1) * blockQ);
    row = qb;
    firstQuery = q0;
    count = 0;
    ascending = true;
    lowest = kBlocks;
    highest = -1;
    for (term = 0; term < terms.length; term++) {
      const t = terms[term] as Term;
      if (!moved.has(t)) t.keyRanges(q0, q1, kvLength, sink);
      else if (t.columns?.causal) t.keyRanges(q0, q1, kvLength, afterFirstQuery);
    }
    if (!ascending) {
      // Out of order (several terms, or a term with several query sub-rows): a dense stretch is cheaper to rescan
      // through the stamps than to sort.
      if (highest - lowest + 1 <= 4 * count) {
        count = 0;
        for (let kb = lowest; kb <= highest; kb++) if (stamp[kb] === row) touched[count++] = kb;
      } else touched.subarray(0, count).sort();
    }
    for (let i = 0; i < count; i++) {
      const kb = touched[i] as number;
      const k0 = kb * blockK;
      const k1 = Math.min(kvLength, k0 + blockK);
      const bits = reachedBy[kb] as number;
      let state: number;
      if (single) state = single.cover(q0, q1, k0, k1);
      else if (gathered.length > 0) state = stateBesideColumns(terms, gathered, q0, q1, k0, k1);
      else if (bitsUsable && (bits & (bits - 1)) === 0) state = (terms[31 - Math.clz32(bits)] as Term).cover(q0, q1, k0, k1);
      else state = unionCoverage(terms, q0, q1, k0, k1);
      if (state === Coverage.all) full.push(kb);
      else if (state === Coverage.some) partial.push(kb);
    }
  };
}

/**
 * A block's state when some columns are gathered: nothing to compute when every pair it keeps is held by the
 * columns; otherwise full if the pattern keeps every pair, partial if not. The columns hold, for every row of the
 * block, the gathered keys up to the block's first query (all of them when not causal), so the block is split into
 * the key ranges between those columns and each range is asked separately.
 */
function stateBesideColumns(terms: readonly Term[], gathered: readonly Term[], q0: number, q1: number, k0: number, k1: number): Coverage {
  const state = unionCoverage(terms, q0, q1, k0, k1);
  if (state === Coverage.none) return state;
  const held: [number, number][] = [];
  for (const t of gathered) {
    const c = t.columns as { keys: IntSet; causal: boolean };
    forEachRun(c.keys, k0, c.causal ? Math.min(k1 - 1, q0) : k1 - 1, (a, b) => held.push([a, b]));
  }
  const runs = mergeIntervals(held);
  let from = k0;
  for (let i = 0; i <= runs.starts.length; i++) {
    const to = i < runs.starts.length ? (runs.starts[i] as number) : k1;
    if (from < to && unionCoverage(terms, q0, q1, from, to) !== Coverage.none) return state;
    if (i < runs.starts.length) from = (runs.ends[i] as number) + 1;
  }
  return Coverage.none;
}
