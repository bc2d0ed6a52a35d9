import { type AttentionInput, attentionFlops, countKeptPairs, randomHeadTensor, type SparseMask } from '@sparseland/core';
import { buildBlockMask, createRng } from '@sparseland/core/kit';

/** One benchmark case: an attention call and its useful FLOPs (4·d per kept pair, core's count). */
export interface AttentionBenchCase {
  readonly name: string;
  readonly n: number;
  readonly heads: number;
  readonly dim: number;
  readonly input: AttentionInput;
  readonly mask: SparseMask | undefined;
  /** Kept pairs over the causal pairs. */
  readonly density: number;
  readonly flops: number;
}

/** 64×64 blocks: the project's block size. */
export const BENCH_BLOCK = 64;

/**
 * Dense causal attention and block-sparse attention keeping 10% of the causal 64×64 blocks (the diagonal block of
 * every query block plus random earlier ones, as full blocks; causality clips the diagonal), same inputs.
 */
export function attentionBenchCases(n: number, heads: number, dim: number, seed = 1): AttentionBenchCase[] {
  const q = randomHeadTensor({ heads, length: n, dim, seed, scale: 0.5 });
  const k = randomHeadTensor({ heads, length: n, dim, seed: seed + 1 });
  const v = randomHeadTensor({ heads, length: n, dim, seed: seed + 2 });
  const input = { q, k, v };
  const shape = { heads, qLength: n, kvLength: n, qOffset: 0, kvHeads: heads, dim };
  const blocks = Math.ceil(n / BENCH_BLOCK);
  const causalBlocks = (blocks * (blocks + 1)) / 2;
  const keepOffDiagonal = Math.max(0, Math.round(0.1 * causalBlocks) - blocks);
  const rng = createRng(seed + 3);
  // Choose which off-diagonal causal blocks to keep (same choice for every head).
  const chosen = new Set<number>();
  const offDiagonal = causalBlocks - blocks;
  while (chosen.size < Math.min(keepOffDiagonal, offDiagonal)) chosen.add(rng.int(offDiagonal));
  let index = 0;
  const keep: number[][] = [];
  for (let qb = 0; qb < blocks; qb++) {
    const row: number[] = [];
    for (let kb = 0; kb < qb; kb++) if (chosen.has(index++)) row.push(kb);
    row.push(qb);
    keep.push(row);
  }
  const sparse: SparseMask = {
    blocks: buildBlockMask(shape, { blockQ: BENCH_BLOCK, blockK: BENCH_BLOCK }, { heads: 1 }, (_h, qb, full) =>
      full.pushAll(keep[qb] ?? []),
    ),
  };
  const make = (name: string, mask: SparseMask | undefined): AttentionBenchCase => {
    const counted = countKeptPairs(mask, shape, { causal: true });
    return { name, n, heads, dim, input, mask, density: counted.kept / counted.total, flops: attentionFlops(counted.kept, dim) };
  };
  return [make(`dense causal N=${n}`, undefined), make(`block-sparse 10% of causal blocks N=${n}`, sparse)];
}
