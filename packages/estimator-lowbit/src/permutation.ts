import { SparselandError } from '@sparseland/core';
import { expectInteger } from '@sparseland/core/kit';

/** Largest stride a permutation may use. */
export const MAX_STRIDE = 4096;

/**
 * PARO's reordering for a 1-D sequence: read the n positions as a grid of rows of `stride` and traverse it column by
 * column, so positions with equal p mod stride become neighbours (a video's frame/height/width axes permuted is the
 * same operation on a 3-D grid). `order[newIndex] = oldIndex`, `inverse[oldIndex] = newIndex`; stride 1 is the identity.
 */
export function stridePermutation(n: number, stride: number): { order: Int32Array; inverse: Int32Array } {
  expectInteger(n, 'n', 1);
  expectInteger(stride, 'stride', 1, MAX_STRIDE);
  const order = new Int32Array(n);
  let at = 0;
  for (let r = 0; r < Math.min(stride, n); r++) for (let p = r; p < n; p += stride) order[at++] = p;
  if (at !== n) throw new SparselandError('E_SHAPE', `stride permutation covered ${at} of ${n} positions`);
  const inverse = new Int32Array(n);
  for (let i = 0; i < n; i++) inverse[order[i] as number] = i;
  return { order, inverse };
}
