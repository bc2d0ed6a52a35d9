// Deterministic selection over score arrays. Scores of -Infinity or NaN are never selected; ties go to the lower
// index, so the same scores always give the same choice.

/**
 * Indices (absolute, ascending) of the `k` largest values among values[from, to), skipping -Infinity and NaN.
 */
export function topIndices(values: ArrayLike<number>, from: number, to: number, k: number): Int32Array {
  if (k <= 0 || to <= from) return new Int32Array(0);
  // Few of many: one pass with a min-heap of the k best (no count, no copy).
  if (k * 16 < to - from) return heapTop(values, from, to, k);
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

/** The k-th largest finite-or-+Infinity value among values[from, to) (k ≥ 1, at most the valid count): quickselect. */
export function kthLargest(values: ArrayLike<number>, from: number, to: number, k: number): number {
  const copy = new Float64Array(to - from);
  let n = 0;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v > -Infinity) copy[n++] = v;
  }
  return selectAscending(copy, 0, n - 1, n - k);
}

/** The value of rank `rank` (0-based, ascending) of a[lo..hi], partially reordering a (Hoare quickselect). */
function selectAscending(a: Float64Array, lo: number, hi: number, rank: number): number {
  while (hi > lo) {
    // Median of three as the pivot keeps sorted and reversed inputs linear.
    const mid = (lo + hi) >>> 1;
    const x = a[lo] as number;
    const y = a[mid] as number;
    const z = a[hi] as number;
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((a[i] as number) < pivot) i++;
      while ((a[j] as number) > pivot) j--;
      if (i <= j) {
        const t = a[i] as number;
        a[i] = a[j] as number;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (rank <= j) hi = j;
    else if (rank >= i) lo = i;
    else return a[rank] as number;
  }
  return a[rank] as number;
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
 * values first, ties to the lower index. Returned ascending by index. Indices arrive in increasing order, so a value
 * equal to the heap's worst never replaces it (the earlier index wins the tie).
 */
function heapTop(values: ArrayLike<number>, from: number, to: number, k: number): Int32Array {
  const idx = new Int32Array(k);
  const val = new Float64Array(k);
  let size = 0;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (size === k) {
      if (v > (val[0] as number)) siftDownAt(idx, val, 0, k, i, v);
    } else if (v > -Infinity) siftUpAt(idx, val, 0, size++, i, v);
  }
  return idx.subarray(0, size).sort();
}

/**
 * The `k` largest values of every column of a row-major matrix that arrives a block of rows at a time: `offer`
 * each block in increasing row order, then `indices(c)` is what `topIndices` of column c would return (rows
 * ascending, ties to the lower row, -Infinity and NaN skipped). One min-heap per column; a value that does not beat
 * its column's worst kept value costs one comparison, so reducing a huge product (every token against every
 * centroid) is a single streaming pass with no transpose.
 */
export class ColumnTopK {
  private readonly idx: Int32Array;
  private readonly val: Float64Array;
  private readonly size: Int32Array;
  /** Per column: the value a new row must beat (its heap's worst once full, -Infinity before). */
  private readonly floor: Float64Array;

  constructor(
    readonly columns: number,
    readonly k: number,
  ) {
    this.idx = new Int32Array(columns * k);
    this.val = new Float64Array(columns * k);
    this.size = new Int32Array(columns);
    this.floor = new Float64Array(columns).fill(k > 0 ? -Infinity : Infinity);
  }

  /** Rows [r0, r0 + rows) of the matrix, row r at data[at + (r − r0)·columns ...]. */
  offer(data: Float32Array, at: number, r0: number, rows: number): void {
    const { columns, k, idx, val, size, floor } = this;
    for (let r = 0; r < rows; r++) {
      const row = at + r * columns;
      const i = r0 + r;
      for (let c = 0; c < columns; c++) {
        const v = data[row + c] as number;
        // Equal to the worst kept value loses the tie (a later row); NaN never passes.
        if (!(v > (floor[c] as number))) continue;
        const base = c * k;
        const n = size[c] as number;
        if (n === k) siftDownAt(idx, val, base, k, i, v);
        else {
          siftUpAt(idx, val, base, n, i, v);
          size[c] = n + 1;
        }
        if (n + 1 >= k) floor[c] = val[base] as number;
      }
    }
  }

  /** The kept rows of column c, ascending. */
  indices(c: number): Int32Array {
    const base = c * this.k;
    return this.idx.slice(base, base + (this.size[c] as number)).sort();
  }
}

/** Inserts (i, v) into the min-heap of `n` entries at idx/val[base...] (worse = smaller value, or larger index). */
function siftUpAt(idx: Int32Array, val: Float64Array, base: number, n: number, i: number, v: number): void {
  let at = n;
  while (at > 0) {
    const parent = (at - 1) >> 1;
    const pv = val[base + parent] as number;
    if (pv < v || (pv === v && (idx[base + parent] as number) > i)) break;
    idx[base + at] = idx[base + parent] as number;
    val[base + at] = pv;
    at = parent;
  }
  idx[base + at] = i;
  val[base + at] = v;
}

/** Replaces the root of the min-heap of `size` entries at idx/val[base...] by (i, v). */
function siftDownAt(idx: Int32Array, val: Float64Array, base: number, size: number, i: number, v: number): void {
  let at = 0;
  for (;;) {
    const l = 2 * at + 1;
    if (l >= size) break;
    const r = l + 1;
    let m = l;
    let mv = val[base + l] as number;
    if (r < size) {
      const rv = val[base + r] as number;
      if (rv < mv || (rv === mv && (idx[base + r] as number) > (idx[base + l] as number))) {
        m = r;
        mv = rv;
      }
    }
    if (v < mv || (v === mv && i > (idx[base + m] as number))) break;
    idx[base + at] = idx[base + m] as number;
    val[base + at] = mv;
    at = m;
  }
  idx[base + at] = i;
  val[base + at] = v;
}
