/**
 * Rounds a row in place as if stored with `bits` per value: symmetric per-row absmax scaling for 8/4/2 bits
 * (scale = absmax / (2^(bits-1) - 1)), and IEEE half precision for 16 bits.
 */
export function fakeQuantizeRow(row: Float32Array, bits: number): void {
  if (bits >= 32) return;
  if (bits === 16) {
    for (let i = 0; i < row.length; i++) row[i] = roundToHalf(row[i] as number);
    return;
  }
  const qmax = 2 ** (bits - 1) - 1;
  let absmax = 0;
  for (let i = 0; i < row.length; i++) absmax = Math.max(absmax, Math.abs(row[i] as number));
  if (absmax === 0) return;
  const scale = absmax / qmax;
  for (let i = 0; i < row.length; i++) row[i] = Math.max(-qmax, Math.min(qmax, Math.round((row[i] as number) / scale))) * scale;
}

/** Nearest float16 value (round half to even on the 11-bit significand), as a number. */
export function roundToHalf(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  const ulp = 2 ** (e - 10);
  const r = a / ulp;
  let n = Math.round(r);
  if (r - Math.floor(r) === 0.5 && n % 2 !== 0) n -= 1;
  return Math.sign(x) * n * ulp;
}
