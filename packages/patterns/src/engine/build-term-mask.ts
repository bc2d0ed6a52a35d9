import { BlockMask, buildBlockMask, type IntList, type MaskBuildOptions, type MaskMod, type MaskShape } from '@sparseland/core';
import { unionCoverage } from './classify.js';
import { Coverage, type Term } from './term.js';

/** A pattern as terms: one list per distinct head behaviour, and which behaviour each query head has. */
export interface TermLayout {
  readonly classes: readonly (readonly Term[])[];
  /** Behaviour of query head h; absent when every head behaves the same (the mask is then one broadcast head). */
  readonly classOf?: ((h: number) => number) | undefined;
}

/**
 * Builds the BlockMask of a pattern from its terms without visiting pairs: each term names the key ranges its rows
 * can reach, and only those blocks are classified (full / partial / empty, exactly as createBlockMask would).
 * Cost: O(candidate blocks · terms), never O(qLength · kvLength). Heads that behave alike are built once; a mask
 * whose heads all behave alike is stored as one broadcast head. `maskMod` is the pattern's exact definition, used by
 * kernels inside partial blocks.
 */
export function buildTermMask(shape: MaskShape, sizes: MaskBuildOptions, layout: TermLayout, maskMod: MaskMod): BlockMask {
  const { classes, classOf } = layout;
  const owner = classOf ? Array.from({ length: shape.heads }, (_, h) => classOf(h)) : [0];
  const distinct = [...new Set(owner)];
  const perClass = new Map<number, BlockMask>();
  for (const c of distinct) {
    const fill = classRowFiller(classes[c] ?? [], shape, sizes);
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
 */
function classRowFiller(terms: readonly Term[], shape: MaskShape, sizes: MaskBuildOptions): RowFiller {
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
  const single = terms.length === 1 ? (terms[0] as Term) : undefined;
  // Which terms reached a block is kept as bits; past 31 terms every block takes the general path.
  const bitsUsable = terms.length <= 31;
  return (qb, full, partial) => {
    const q0 = qOffset + qb * blockQ;
    const q1 = qOffset + Math.min(qLength, (qb + 1) * blockQ);
    row = qb;
    count = 0;
    ascending = true;
    lowest = kBlocks;
    highest = -1;
    for (term = 0; term < terms.length; term++) (terms[term] as Term).keyRanges(q0, q1, kvLength, sink);
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
      else if (bitsUsable && (bits & (bits - 1)) === 0) state = (terms[31 - Math.clz32(bits)] as Term).cover(q0, q1, k0, k1);
      else state = unionCoverage(terms, q0, q1, k0, k1);
      if (state === Coverage.all) full.push(kb);
      else if (state === Coverage.some) partial.push(kb);
    }
  };
}
