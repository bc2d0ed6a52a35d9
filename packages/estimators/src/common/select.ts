// Deterministic selection over score arrays. Scores of -Infinity or NaN are never selected; ties go to the lower
// index, so the same scores always give the same choice.

/**
 * Indices (absolute, ascending) of the `k` largest values among values[from, to), skipping -Infinity and NaN.
 */
export function topIndices(values: ArrayLike<number>, from: number, to: number, k: number): Int32Array {
  if (k <= 0 || to <= from) return new Int32Array(0);
  // Few of many: one pass that buffers values above a running floor (no count, no copy).
  if (k * 16 < to - from) return bufferedTop(values, from, to, k);
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

/**
 * topIndices written into `out` (at least min(k, to − from) long), with `scratch` (at least to − from long) for the
 * k-th value: the same indices, for callers that select in a loop and would otherwise allocate two arrays a call.
 * Returns how many were written.
 *
 * HiP selects half of ~512 values some 20,000 times per 32K build, where a quickselect's comparisons are coin flips
 * for the branch predictor. So the k-th value is found by a histogram instead: the valid values fall into
 * BUCKETS equal-width buckets between their minimum and maximum (a monotone map, so the buckets are in value order),
 * the bucket holding the k-th largest is found by counting down from the top, and only that bucket's few values are
 * quickselected. The indices are then written in one pass without a data-dependent branch.
 */
export function topIndicesInto(values: Float64Array, from: number, to: number, k: number, out: Int32Array, scratch: Float64Array): number {
  if (k <= 0 || to <= from) return 0;
  let valid = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v > Number.NEGATIVE_INFINITY) {
      valid++;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  let n = 0;
  if (k >= valid) {
    for (let i = from; i < to; i++) if ((values[i] as number) > Number.NEGATIVE_INFINITY) out[n++] = i;
    return n;
  }
  // Equal values, or an infinite range, have no useful buckets: the whole valid set is quickselected.
  const spread = hi - lo;
  const scale = spread > 0 && spread < Number.POSITIVE_INFINITY ? BUCKETS / spread : 0;
  const counts = bucketCounts;
  counts.fill(0);
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v > Number.NEGATIVE_INFINITY) {
      const b = ((v - lo) * scale) | 0;
      counts[b] = (counts[b] as number) + 1;
    }
  }
  // Bucket t holds the k-th largest; `above` values lie in higher buckets.
  let t = BUCKETS;
  let above = 0;
  while (above + (counts[t] as number) < k) above += counts[t--] as number;
  let c = 0;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (v > Number.NEGATIVE_INFINITY && (((v - lo) * scale) | 0) === t) scratch[c++] = v;
  }
  const rank = c - (k - above);
  const threshold = selectAscending(scratch, 0, c - 1, rank);
  // Quickselect leaves the bucket's largest at scratch[rank, c): those above the threshold are counted there.
  for (let i = rank; i < c; i++) if ((scratch[i] as number) > threshold) above++;
  let ties = k - above;
  // Every index is written at out[n]; n moves on only for a kept one (so out needs no room past the k-th).
  for (let i = from; i < to && n < k; i++) {
    const v = values[i] as number;
    const tie = +(v === threshold) & +(ties > 0);
    ties -= tie;
    out[n] = i;
    n += +(v > threshold) | tie;
  }
  return n;
}

/** Buckets of topIndicesInto's histogram (one more slot holds the maximum itself). */
const BUCKETS = 256;
const bucketCounts = new Int32Array(BUCKETS + 1);

/**
 * The k-th largest finite-or-+Infinity value among values[from, to) (k ≥ 1, at most the valid count): quickselect,
 * on a copy in `scratch` when it is long enough.
 */
export function kthLargest(values: ArrayLike<number>, from: number, to: number, k: number, scratch?: Float64Array): number {
  const copy = scratch && scratch.length >= to - from ? scratch : new Float64Array(to - from);
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
 * The k largest in one pass (for k much smaller than n), the same result as sorting: larger values first, ties to
 * the lower index; returned ascending by index. Values above a running floor are appended to a buffer of 2k; when it
 * fills, it is cut back to its k best (quickselect of the k-th value, then a stable compaction that keeps the first
 * ties) and that k-th value becomes the floor. Indices arrive in increasing order, so a later value equal to the
 * floor loses its tie and is not even buffered; the buffer stays in index order, so no final sort is needed.
 */
function bufferedTop(values: ArrayLike<number>, from: number, to: number, k: number): Int32Array {
  // Start from a floor sampled below the expected k-th value (about 2k values above it), so most values cost one
  // comparison; if fewer than k values beat it, the floor was too high and the pass is redone from -Infinity.
  const sampled = sampledFloor(values, from, to, k);
  if (sampled > -Infinity) {
    const top = bufferedPass(values, from, to, k, sampled);
    if (top.length === k) return top;
  }
  return bufferedPass(values, from, to, k, -Infinity);
}

/** A value that about 2k of values[from, to) exceed, from a strided sample; -Infinity when the range is short. */
function sampledFloor(values: ArrayLike<number>, from: number, to: number, k: number): number {
  const n = to - from;
  if (n < 64 * k || n < 4096) return -Infinity;
  const size = 1024;
  const sample = new Float64Array(size);
  let m = 0;
  for (let s = 0; s < size; s++) {
    const v = values[from + Math.floor((s * n) / size)] as number;
    if (v > -Infinity) sample[m++] = v;
  }
  const rank = Math.ceil((2 * k * size) / n);
  if (m < 4 * rank) return -Infinity;
  return selectAscending(sample, 0, m - 1, m - rank);
}

/**
 * The k best of values[from, to) among those above `floor` (fewer when fewer beat it): a buffer of 2k candidates in
 * index order, cut back to its k best whenever it fills.
 */
function bufferedPass(values: ArrayLike<number>, from: number, to: number, k: number, start: number): Int32Array {
  const capacity = 2 * k;
  const idx = new Int32Array(capacity);
  const val = new Float64Array(capacity);
  const scratch = new Float64Array(capacity);
  let n = 0;
  let floor = start;
  for (let i = from; i < to; i++) {
    const v = values[i] as number;
    if (!(v > floor)) continue;
    idx[n] = i;
    val[n] = v;
    if (++n === capacity) {
      floor = keepBest(idx, val, scratch, n, k);
      n = k;
    }
  }
  if (n > k) {
    keepBest(idx, val, scratch, n, k);
    n = k;
  }
  return idx.slice(0, n);
}

/** Cuts the candidates (idx, val)[0, n) (in index order) to their k best, in index order; returns the k-th value. */
function keepBest(idx: Int32Array, val: Float64Array, scratch: Float64Array, n: number, k: number): number {
  scratch.set(val.subarray(0, n));
  const threshold = selectAscending(scratch, 0, n - 1, n - k);
  let above = 0;
  for (let p = 0; p < n; p++) if ((val[p] as number) > threshold) above++;
  let ties = k - above;
  let kept = 0;
  for (let p = 0; p < n; p++) {
    const v = val[p] as number;
    if (v > threshold || (v === threshold && ties-- > 0)) {
      idx[kept] = idx[p] as number;
      val[kept] = v;
      kept++;
    }
  }
  return threshold;
}
