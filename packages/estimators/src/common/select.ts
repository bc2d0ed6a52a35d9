// Deterministic selection over score arrays. Scores of -Infinity or NaN are never selected; ties go to the lower
// index, so the same scores always give the same choice.

/**
 * Indices (absolute, ascending) of the `k` largest values among values[from, to), skipping -Infinity and NaN.
 */
export function topIndices(values: ArrayLike<number>, from: number, to: number, k: number): Int32Array {
  if (k <= 0 || to <= from) return new Int32Array(0);
  let valid = 0;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v > -Infinity) valid++;
  }
  const out = new Int32Array(Math.min(k, valid));
  if (out.length === 0) return out;
  if (k >= valid) {
    let n = 0;
    for (let i = from; i < to; i++) if ((values[i] as number) > -Infinity) out[n++] = i;
    return out;
  }
  if (k * 16 < valid) return heapTop(values, from, to, k);
  const threshold = kthLargest(values, from, to, k);
  // Everything above the threshold, then ties at the threshold in index order until k are taken.
  let above = 0;
  for (let i = from; i < to; i++) if ((values[i] as number) > threshold) above++;
  let ties = k - above;
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v > threshold || (v === threshold && ties-- > 0)) out[n++] = i;
  }
  return out;
}

/** The k-th largest finite-or-+Infinity value among values[from, to) (k ≥ 1, at most the valid count). */
export function kthLargest(values: ArrayLike<number>, from: number, to: number, k: number): number {
  const sorted = validSorted(values, from, to);
  return sorted[sorted.length - k] as number;
}

/** The valid values of values[from, to), sorted ascending (Float64Array.sort is numeric and native). */
function validSorted(values: ArrayLike<number>, from: number, to: number): Float64Array {
  const copy = new Float64Array(to - from);
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v > -Infinity) copy[n++] = v;
  }
  return copy.subarray(0, n).sort();
}

/**
 * The fewest of the largest non-negative values among values[from, to) whose sum reaches `fraction` of the total
 * (FlexPrefill's and ZipVL's cumulative budget). 0 when the total is 0.
 */
export function coverCount(values: ArrayLike<number>, from: number, to: number, fraction: number): number {
  const sorted = validSorted(values, from, to);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) total += Math.max(0, sorted[i] as number);
  if (total <= 0) return 0;
  const target = fraction * total * (1 - 1e-12);
  let acc = 0;
  let count = 0;
  for (let i = sorted.length - 1; i >= 0 && acc < target; i--) {
    acc += Math.max(0, sorted[i] as number);
    count++;
  }
  return count;
}

/**
 * The k largest by a min-heap of size k (O(n log k), for k much smaller than n); same result as sorting: larger
 * values first, ties to the lower index. Returned ascending by index.
 */
function heapTop(values: ArrayLike<number>, from: number, to: number, k: number): Int32Array {
  const heap = new Int32Array(k);
  let size = 0;
  // a "worse than" b: smaller value, or equal value and larger index.
  const worse = (a: number, b: number) => {
    const va = values[a] as number;
    const vb = values[b] as number;
    return va < vb || (va === vb && a > b);
  };
  const siftDown = (at: number) => {
    for (;;) {
      const l = 2 * at + 1;
      const r = l + 1;
      let m = at;
      if (l < size && worse(heap[l] as number, heap[m] as number)) m = l;
      if (r < size && worse(heap[r] as number, heap[m] as number)) m = r;
      if (m === at) return;
      const t = heap[at] as number;
      heap[at] = heap[m] as number;
      heap[m] = t;
      at = m;
    }
  };
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (!(v > -Infinity)) continue;
    if (size < k) {
      let at = size++;
      heap[at] = i;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (!worse(heap[at] as number, heap[parent] as number)) break;
        const t = heap[at] as number;
        heap[at] = heap[parent] as number;
        heap[parent] = t;
        at = parent;
      }
    } else if (worse(heap[0] as number, i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.subarray(0, size).sort();
}
