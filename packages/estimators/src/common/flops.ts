// One way of counting estimation work for every estimator: 2·d FLOPs per estimated dot product (a multiply and an
// add per channel), one FLOP per value added into a pool or a score sum. Softmax exponentials and sorting are not
// counted, as core's attentionFlops does not count the softmax of attention itself.

/** FLOPs of `pairs` dot products of length `dim`. */
export function dotFlops(pairs: number, dim: number): number {
  return 2 * dim * pairs;
}

/** FLOPs of pooling (or summing) `values` numbers. */
export function addFlops(values: number): number {
  return values;
}

/** Dot products a causal probe of rows at positions [firstPos, firstPos + rows) makes over kvLength keys. */
export function causalProbePairs(firstPos: number, rows: number, kvLength: number, causal: boolean): number {
  let pairs = 0;
  for (let r = 0; r < rows; r++) pairs += causal ? Math.max(0, Math.min(kvLength, firstPos + r + 1)) : kvLength;
  return pairs;
}
