import { type BlockMask, buildBlockMask, type IntList, type MaskBuildOptions, type MaskMod, type MaskShape } from '@sparseland/core';
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
 * Cost: O(candidate blocks · terms), never O(qLength · kvLength). `maskMod` is the pattern's exact definition,
 * used by kernels inside partial blocks.
 */
export function buildTermMask(shape: MaskShape, sizes: MaskBuildOptions, layout: TermLayout, maskMod: MaskMod): BlockMask {
  const { classes, classOf } = layout;
  const rowFiller = (terms: readonly Term[]) => classRowFiller(terms, shape, sizes);
  if (classes.length === 1 || !classOf) {
    const fill = rowFiller(classes[0] ?? []);
    return buildBlockMask(shape, sizes, { heads: 1, maskMod, trusted: true }, (_h, qb, full, partial) => fill(qb, full, partial));
  }
  const owner = Array.from({ length: shape.heads }, (_, h) => classOf(h));
  const distinct = new Set(owner);
  if (distinct.size === 1) {
    const fill = rowFiller(classes[owner[0] as number] as readonly Term[]);
    return buildBlockMask(shape, sizes, { heads: 1, maskMod, trusted: true }, (_h, qb, full, partial) => fill(qb, full, partial));
  }
  if (distinct.size === shape.heads) {
    // Every head differs (MoA spans, BigBird's random blocks): fill rows directly, nothing to share.
    const fills = owner.map((c) => rowFiller(classes[c] as readonly Term[]));
    return buildBlockMask(shape, sizes, { heads: shape.heads, maskMod, trusted: true }, (h, qb, full, partial) =>
      (fills[h] as RowFiller)(qb, full, partial),
    );
  }
  // Few behaviours over many heads: build each once as a broadcast mask, then copy its rows to its heads.
  const perClass = new Map<number, BlockMask>();
  for (const c of distinct) {
    const fill = rowFiller(classes[c] as readonly Term[]);
    perClass.set(
      c,
      buildBlockMask(shape, sizes, { heads: 1, maskMod, trusted: true }, (_h, qb, full, partial) => fill(qb, full, partial)),
    );
  }
  return buildBlockMask(shape, sizes, { heads: shape.heads, maskMod, trusted: true }, (h, qb, full, partial) => {
    const m = perClass.get(owner[h] as number) as BlockMask;
    full.pushAll(m.fullBlocks(0, qb));
    partial.pushAll(m.partialBlocks(0, qb));
  });
}

type RowFiller = (qb: number, full: IntList, partial: IntList) => void;

function classRowFiller(terms: readonly Term[], shape: MaskShape, sizes: MaskBuildOptions): RowFiller {
  const { blockQ, blockK } = sizes;
  const { kvLength, qOffset, qLength } = shape;
  const ranges = new BlockRanges();
  return (qb, full, partial) => {
    const q0 = qOffset + qb * blockQ;
    const q1 = qOffset + Math.min(qLength, (qb + 1) * blockQ);
    ranges.clear();
    const sink = (a: number, b: number) => ranges.add(Math.floor(a / blockK), Math.floor(b / blockK));
    for (const t of terms) t.keyRanges(q0, q1, kvLength, sink);
    ranges.forEachBlock((kb) => {
      const k0 = kb * blockK;
      const state = unionCoverage(terms, q0, q1, k0, Math.min(kvLength, k0 + blockK));
      if (state === Coverage.all) full.push(kb);
      else if (state === Coverage.some) partial.push(kb);
    });
  };
}

/** Candidate key-block ranges of one row, visited once each in ascending order. */
class BlockRanges {
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private length = 0;
  private sorted = true;

  clear(): void {
    this.length = 0;
    this.sorted = true;
  }

  add(a: number, b: number): void {
    if (this.length === this.starts.length) {
      const starts = new Int32Array(this.length * 2);
      const ends = new Int32Array(this.length * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      this.starts = starts;
      this.ends = ends;
    }
    if (this.length > 0 && a < (this.starts[this.length - 1] as number)) this.sorted = false;
    this.starts[this.length] = a;
    this.ends[this.length] = b;
    this.length++;
  }

  forEachBlock(fn: (kb: number) => void): void {
    const n = this.length;
    if (!this.sorted) {
      // Sort the ranges by start: pack (start, end) into one double so a typed-array sort does it.
      const packed = new Float64Array(n);
      for (let i = 0; i < n; i++) packed[i] = (this.starts[i] as number) * 4194304 + (this.ends[i] as number);
      packed.sort();
      for (let i = 0; i < n; i++) {
        const v = packed[i] as number;
        this.starts[i] = Math.floor(v / 4194304);
        this.ends[i] = v % 4194304;
      }
    }
    let done = -1;
    for (let i = 0; i < n; i++) {
      const end = this.ends[i] as number;
      for (let kb = Math.max(this.starts[i] as number, done + 1); kb <= end; kb++) fn(kb);
      if (end > done) done = end;
    }
  }
}
