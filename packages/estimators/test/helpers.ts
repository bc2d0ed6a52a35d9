// Shared test helpers: run an estimator the way attention() does, and read masks back as key sets.
import { runEstimator } from '@sparseland/conformance';
import {
  type Backend,
  createReferenceBackend,
  type EstimatorPlugin,
  type HeadTensor,
  type SparseMask,
  sparseMaskToDense,
} from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';

export interface Input {
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly v: HeadTensor;
  readonly qOffset?: number;
}

export const reference: Backend = createReferenceBackend();

export async function estimate(
  plugin: EstimatorPlugin,
  params: Record<string, unknown>,
  input: Input,
  options: { blockQ: number; blockK: number; causal?: boolean; seed?: number; backend?: Backend },
): Promise<{ mask: SparseMask; flops: number }> {
  const { mask, cost } = await runEstimator(plugin, params, input, {
    backend: options.backend ?? reference,
    causal: options.causal ?? true,
    blockQ: options.blockQ,
    blockK: options.blockK,
    seed: options.seed ?? 0,
  });
  return { mask, flops: cost.total };
}

/** The keys each (head, row) keeps, as sets, with the call's causality applied. */
export function keptKeys(mask: SparseMask, input: Input, causal = true): Set<number>[][] {
  const shape = resolveAttentionShape(input);
  const dense = sparseMaskToDense(mask, shape, { causal });
  const out: Set<number>[][] = [];
  for (let h = 0; h < shape.heads; h++) {
    const rows: Set<number>[] = [];
    for (let i = 0; i < shape.qLength; i++) {
      const set = new Set<number>();
      for (let k = 0; k < shape.kvLength; k++) if (dense[(h * shape.qLength + i) * shape.kvLength + k]) set.add(k);
      rows.push(set);
    }
    out.push(rows);
  }
  return out;
}

/** Sorting oracle for top-k: larger first, ties to the lower index, -Infinity never chosen. */
export function naiveTop(values: ArrayLike<number>, k: number): number[] {
  return Array.from(values, (v, i) => ({ v, i }))
    .filter(({ v }) => v > -Infinity)
    .sort((a, b) => b.v - a.v || a.i - b.i)
    .slice(0, Math.max(0, k))
    .map(({ i }) => i);
}

/** Fewest largest values reaching the fraction of the total (the cumulative budget), by sorting. */
export function naiveCover(values: ArrayLike<number>, fraction: number): number {
  const sorted = Array.from(values)
    .filter((v) => v > -Infinity)
    .sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + Math.max(0, b), 0);
  let acc = 0;
  let n = 0;
  while (total > 0 && n < sorted.length && acc < fraction * total * (1 - 1e-12)) acc += Math.max(0, sorted[n++] as number);
  return n;
}

/** Expected key sets from a per-(head, query block) generator of candidate keys, clipped like the builder. */
export function expectedKeys(
  input: Input,
  blockQ: number,
  causal: boolean,
  keysOf: (h: number, qb: number) => Iterable<number>,
): Set<number>[][] {
  const shape = resolveAttentionShape(input);
  const out: Set<number>[][] = [];
  for (let h = 0; h < shape.heads; h++) {
    const rows: Set<number>[] = [];
    for (let i = 0; i < shape.qLength; i++) {
      const qb = Math.floor(i / blockQ);
      const pos = shape.qOffset + i;
      const set = new Set<number>();
      for (const k of keysOf(h, qb)) if (k >= 0 && k < shape.kvLength && (!causal || k <= pos)) set.add(k);
      rows.push(set);
    }
    out.push(rows);
  }
  return out;
}

/** Sets as sorted arrays, for readable diffs. */
export function asArrays(sets: Set<number>[][]): number[][][] {
  return sets.map((rows) => rows.map((s) => [...s].sort((a, b) => a - b)));
}
