// Inputs and masks of the benchmark cases: seeded, built outside every timed region.
import {
  type AttentionInput,
  type BlockMask,
  ColumnMask,
  countKeptPairs,
  type HeadTensor,
  type MaskShape,
  randomHeadTensor,
  type SparseMask,
  TokenSelection,
} from '@sparseland/core';
import { buildBlockMask, createRng, lowerBound } from '@sparseland/core/kit';

export const DIM = 64;
export const BLOCK = 64;

export function inputs(
  n: number,
  qHeads: number,
  kvHeads: number,
  seed = 1,
): AttentionInput & { q: HeadTensor; k: HeadTensor; v: HeadTensor } {
  return {
    q: randomHeadTensor({ heads: qHeads, length: n, dim: DIM, seed, scale: 0.5 }),
    k: randomHeadTensor({ heads: kvHeads, length: n, dim: DIM, seed: seed + 1, scale: 0.5 }),
    v: randomHeadTensor({ heads: kvHeads, length: n, dim: DIM, seed: seed + 2 }),
  };
}

export function shapeOf(n: number, heads: number): MaskShape {
  return { heads, qLength: n, kvLength: n, qOffset: 0 };
}

/**
 * Random block-sparse mask keeping `fraction` of the causal 64×64 blocks of every head: the diagonal block of every
 * query block (so no row is empty) plus off-diagonal causal blocks drawn with the probability that makes up the rest.
 */
export function randomCausalBlocks(n: number, heads: number, fraction: number, seed: number): BlockMask {
  const qBlocks = Math.ceil(n / BLOCK);
  const causalBlocks = (qBlocks * (qBlocks + 1)) / 2;
  const p = Math.max(0, (fraction * causalBlocks - qBlocks) / (causalBlocks - qBlocks));
  const rng = createRng(seed);
  return buildBlockMask(shapeOf(n, heads), { blockQ: BLOCK, blockK: BLOCK }, { trusted: true }, (_h, qb, full) => {
    for (let kb = 0; kb < qb; kb++) if (rng.next() < p) full.push(kb);
    full.push(qb);
  });
}

/**
 * MInference-style vertical-slash mask shared by every head: slash lines as BlockMask block diagonals (the local
 * diagonal band and a few far ones) plus the sink block, and vertical lines as a ColumnMask of random key columns.
 */
export function verticalSlash(n: number, verticals: number, diagonals: readonly number[], seed: number): SparseMask {
  const rng = createRng(seed);
  const cols = new Set<number>();
  while (cols.size < Math.min(verticals, n)) cols.add(rng.int(n));
  return verticalSlashMask(n, Int32Array.from(cols), diagonals);
}

/** The vertical-slash mask of given key columns (any order) and block diagonals (query block − key block ≥ 0). */
export function verticalSlashMask(n: number, columns: Int32Array, diagonals: readonly number[]): SparseMask {
  const shape = shapeOf(n, 1);
  // Diagonals in decreasing order give each row's key blocks qb − o in increasing order, after the sink block.
  const offsets = Int32Array.from(new Set(diagonals)).sort().reverse();
  const blocks = buildBlockMask(shape, { blockQ: BLOCK, blockK: BLOCK }, { heads: 1, trusted: true }, (_h, qb, full) => {
    full.push(0);
    for (const o of offsets) if (qb - o > 0) full.push(qb - o);
  });
  const sorted = Int32Array.from(columns).sort();
  const built = ColumnMask.build(shape, BLOCK, { heads: 1, trusted: true }, (_h, qb, out) => {
    out.pushAll(sorted.subarray(0, lowerBound(sorted, Math.min(n, (qb + 1) * BLOCK))));
  });
  return { blocks, columns: built };
}

/** Exact kept pairs of a head-broadcast mask, summed over `heads` heads (counted on one head). */
export function keptPairs(mask: SparseMask, n: number, heads: number): number {
  return countKeptPairs(mask, shapeOf(n, 1), { causal: true }).kept * heads;
}

/**
 * A decode selection of `budget` slots per kv head over a cache of `n`: 64 sink tokens, the recent 512, and
 * random 16-token pages for the rest (Quest-style).
 */
export function decodeSelection(n: number, kvHeads: number, budget: number, seed: number): TokenSelection {
  const rng = createRng(seed);
  const lists: number[][] = [];
  for (let g = 0; g < kvHeads; g++) {
    const set = new Set<number>();
    for (let s = 0; s < Math.min(64, n); s++) set.add(s);
    for (let s = Math.max(0, n - 512); s < n; s++) set.add(s);
    while (set.size < Math.min(budget, n)) {
      const page = rng.int(Math.floor(n / 16)) * 16;
      for (let s = page; s < page + 16 && set.size < budget; s++) set.add(s);
    }
    lists.push(Array.from(set));
  }
  return TokenSelection.fromLists(lists, n);
}

/** Token-major copy [position][head][dim] of a HeadTensor: the layout onnxruntime's attention ops take. */
export function tokenMajor(t: HeadTensor): Float32Array {
  const out = new Float32Array(t.data.length);
  for (let h = 0; h < t.heads; h++) {
    for (let i = 0; i < t.length; i++) {
      out.set(t.data.subarray((h * t.length + i) * t.dim, (h * t.length + i + 1) * t.dim), (i * t.heads + h) * t.dim);
    }
  }
  return out;
}

/** K or V with each kv head repeated for its query heads (for the plain ONNX graph, which has no GQA). */
export function repeatHeads(t: HeadTensor, heads: number): Float32Array {
  const group = heads / t.heads;
  const stride = t.length * t.dim;
  const out = new Float32Array(heads * stride);
  for (let h = 0; h < heads; h++)
    out.set(t.data.subarray(Math.floor(h / group) * stride, (Math.floor(h / group) + 1) * stride), h * stride);
  return out;
}
