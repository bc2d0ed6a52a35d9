/**
 * The `k` slots to keep (sorted ascending): protected slots first (the newest of them when more than k are
 * protected), then the highest scores; ties go to the later slot, so results never depend on sort stability.
 * NaN scores rank last. O(n log n) with a native numeric sort (no comparator callbacks: this runs every decode step).
 */
export function keepTop(scores: Float64Array, k: number, protect?: Uint8Array): Int32Array {
  const n = scores.length;
  if (k >= n) return Int32Array.from({ length: n }, (_, s) => s);
  if (k <= 0) return new Int32Array(0);
  const keep = new Uint8Array(n);
  let kept = 0;
  if (protect) {
    for (let s = n - 1; s >= 0 && kept < k; s--) {
      if (protect[s]) {
        keep[s] = 1;
        kept++;
      }
    }
  }
  const want = k - kept;
  if (want > 0) {
    // The want-th largest unprotected score is the threshold; above it everything is kept, at it the latest slots.
    const rest = new Float64Array(n - countProtected(protect, n));
    let r = 0;
    for (let s = 0; s < n; s++) if (!protect?.[s]) rest[r++] = rankable(scores[s] as number);
    rest.sort();
    const threshold = rest[rest.length - want] as number;
    let above = 0;
    for (let s = 0; s < n; s++) {
      if (!protect?.[s] && rankable(scores[s] as number) > threshold) {
        keep[s] = 1;
        above++;
      }
    }
    for (let s = n - 1, ties = want - above; s >= 0 && ties > 0; s--) {
      if (!protect?.[s] && !keep[s] && rankable(scores[s] as number) === threshold) {
        keep[s] = 1;
        ties--;
      }
    }
  }
  const out = new Int32Array(k);
  let o = 0;
  for (let s = 0; s < n; s++) if (keep[s]) out[o++] = s;
  return out;
}

function rankable(x: number): number {
  return Number.isNaN(x) ? Number.NEGATIVE_INFINITY : x;
}

function countProtected(protect: Uint8Array | undefined, n: number): number {
  let c = 0;
  if (protect) for (let s = 0; s < n; s++) c += protect[s] ? 1 : 0;
  return c;
}
