/**
 * The `k` slots to keep (sorted ascending): protected slots first (the newest of them when more than k are
 * protected), then the highest scores; ties go to the later slot, so results never depend on sort stability.
 */
export function keepTop(scores: Float64Array, k: number, protect?: Uint8Array): Int32Array {
  const n = scores.length;
  if (k >= n) return Int32Array.from({ length: n }, (_, s) => s);
  if (k <= 0) return new Int32Array(0);
  const order = Int32Array.from({ length: n }, (_, s) => s);
  order.sort((a, b) => {
    const pa = protect ? (protect[a] as number) : 0;
    const pb = protect ? (protect[b] as number) : 0;
    if (pa !== pb) return pb - pa;
    const sa = pa ? 0 : (scores[a] as number);
    const sb = pb ? 0 : (scores[b] as number);
    if (sa !== sb) return sb > sa || Number.isNaN(sa) ? 1 : -1;
    return b - a;
  });
  return order.subarray(0, k).sort();
}
