import type { Rng } from '@sparseland/core/kit';

/**
 * A slowly varying random unit vector per position: independent random anchors every `spacing` positions,
 * linearly interpolated and renormalised. Two positions closer than `spacing` have a high dot product; far apart it
 * is noise of size 1/√channels. Putting u(i − δ) in a query and u(j) in a key makes the logit peak at j = i − δ: a
 * local band for δ = 0 and a diagonal ("slash") line for δ > 0, with no position ever stored in the tensors.
 */
export function positionalProcess(length: number, channels: number, spacing: number, rng: Rng): Float32Array {
  const anchors = Math.ceil(length / spacing) + 2;
  const a = new Float64Array(anchors * channels);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  const out = new Float32Array(length * channels);
  for (let p = 0; p < length; p++) {
    const m = Math.floor(p / spacing);
    const t = (p - m * spacing) / spacing;
    let norm = 0;
    for (let c = 0; c < channels; c++) {
      const x = (1 - t) * (a[m * channels + c] as number) + t * (a[(m + 1) * channels + c] as number);
      out[p * channels + c] = x;
      norm += x * x;
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let c = 0; c < channels; c++) out[p * channels + c] = (out[p * channels + c] as number) * inv;
  }
  return out;
}
