/**
 * Rotary position embedding as llama2.c applies it (interleaved pairs (2j, 2j+1) of each head, angle
 * pos · base^(−2j/dim)). Expected Attention needs queries before RoPE; the cache and the hooks see them after.
 */
export interface RopeSpec {
  readonly base: number;
}

/** Undoes RoPE on one row of `dim` values at `position` (in place). */
export function unrotate(row: Float32Array | Float64Array, position: number, rope: RopeSpec): void {
  const d = row.length;
  for (let c = 0; c + 1 < d; c += 2) {
    const angle = position * rope.base ** (-c / d);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    const x = row[c] as number;
    const y = row[c + 1] as number;
    row[c] = x * cos + y * sin;
    row[c + 1] = -x * sin + y * cos;
  }
}

/**
 * The rotation averaged over positions from+1 … from+count, per pair: (mean cos, mean sin) of each pair's angle.
 * Applying it to a pre-RoPE vector gives the mean of that vector rotated to those future positions.
 */
export function meanRotation(from: number, count: number, dim: number, rope: RopeSpec): { cos: Float64Array; sin: Float64Array } {
  const pairs = Math.floor(dim / 2);
  const cos = new Float64Array(pairs);
  const sin = new Float64Array(pairs);
  for (let j = 0; j < pairs; j++) {
    const theta = rope.base ** ((-2 * j) / dim);
    let c = 0;
    let s = 0;
    for (let t = 1; t <= count; t++) {
      c += Math.cos((from + t) * theta);
      s += Math.sin((from + t) * theta);
    }
    cos[j] = c / count;
    sin[j] = s / count;
  }
  return { cos, sin };
}

/** out = R·x for the pairwise rotation R = [[cos, −sin], [sin, cos]] of each pair (odd last channel unchanged). */
export function rotateBy(x: Float64Array, rotation: { cos: Float64Array; sin: Float64Array }, out: Float64Array): void {
  const d = x.length;
  for (let c = 0; c + 1 < d; c += 2) {
    const j = c >> 1;
    const cos = rotation.cos[j] as number;
    const sin = rotation.sin[j] as number;
    const a = x[c] as number;
    const b = x[c + 1] as number;
    out[c] = a * cos - b * sin;
    out[c + 1] = a * sin + b * cos;
  }
  if (d % 2 === 1) out[d - 1] = x[d - 1] as number;
}
