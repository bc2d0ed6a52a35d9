// RoPE at block positions (SeerAttention's `block_position_embeddings`): interleaved pairs (2t, 2t+1) of the gate's
// hidden vectors rotate by position · base^(−2t/hidden), the layout of the llama2.c models this library runs.

export const ROPE_BASE = 10000;

/** Rotates rows[r] (each `width` wide, width even) in place by angle positions[r] · θ_t; `sign` −1 undoes it. */
export function rotateRows(
  rows: Float32Array | Float64Array,
  count: number,
  width: number,
  position: (r: number) => number,
  sign = 1,
): void {
  for (let r = 0; r < count; r++) {
    const pos = position(r);
    const base = r * width;
    for (let t = 0; t < width / 2; t++) {
      const angle = sign * pos * ROPE_BASE ** ((-2 * t) / width);
      const c = Math.cos(angle);
      const s = Math.sin(angle);
      const a = rows[base + 2 * t] as number;
      const b = rows[base + 2 * t + 1] as number;
      rows[base + 2 * t] = a * c - b * s;
      rows[base + 2 * t + 1] = a * s + b * c;
    }
  }
}
