/**
 * 1-D pooling of a score row with an odd `kernel` centred on each slot (SnapKV smooths its votes this way so the
 * neighbours of a hit survive): 'avg' divides by the kernel size (zero padding, as torch's avg_pool1d with
 * padding = kernel // 2 and count_include_pad), 'max' takes the window's maximum.
 */
export function pool1d(scores: Float64Array, kernel: number, kind: 'avg' | 'max'): Float64Array {
  const n = scores.length;
  const half = Math.floor(kernel / 2);
  const out = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    const lo = Math.max(0, s - half);
    const hi = Math.min(n - 1, s + half);
    if (kind === 'max') {
      let m = -Infinity;
      for (let t = lo; t <= hi; t++) if ((scores[t] as number) > m) m = scores[t] as number;
      out[s] = m;
    } else {
      let sum = 0;
      for (let t = lo; t <= hi; t++) sum += scores[t] as number;
      out[s] = sum / kernel;
    }
  }
  return out;
}
