import { MASKED_BELOW } from '../kernels/kernel-this.js';

/**
 * Reads a kernel result into one flat Float32Array of `length` values. gpu.js returns a Float32Array (1D), an array
 * of Float32Array rows (2D), or a texture / GPU buffer handle with `toArray()` (pipelined; a Promise on webgpu).
 */
export async function readFlat(result: unknown, length: number): Promise<Float32Array> {
  let value = result;
  if (value !== null && typeof value === 'object' && typeof (value as { toArray?: unknown }).toArray === 'function') {
    value = await (value as { toArray(): unknown }).toArray();
  }
  if (value instanceof Float32Array) return value.length === length ? value : value.slice(0, length);
  if (Array.isArray(value)) {
    const out = new Float32Array(length);
    let at = 0;
    for (const row of value as ArrayLike<number>[]) {
      if (at >= length) break;
      const take = Math.min(row.length, length - at);
      out.set(take === row.length ? row : Array.prototype.slice.call(row, 0, take), at);
      at += take;
    }
    return out;
  }
  throw new Error(`unexpected gpu.js result: ${Object.prototype.toString.call(value)}`);
}

/** Turns the kernels' "masked" marker into -Infinity, in place. */
export function maskedToInfinity(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) if ((values[i] as number) <= MASKED_BELOW) values[i] = Number.NEGATIVE_INFINITY;
  return values;
}
