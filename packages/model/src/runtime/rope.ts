import { ROPE_THETA } from '../checkpoint/config.js';
import type { LlamaWeights } from '../checkpoint/weights.js';

/**
 * RoPE angles of llama2.c: pair j (channels 2j, 2j+1 of every head) turns by pos·θ_j with θ_j = 10000^(−2j/headDim),
 * computed in float32 as PyTorch's precompute_freqs_cis does. Positions inside the trained context read the tables
 * a v0 checkpoint stores; later positions (extrapolation) and v1 checkpoints use the same formula.
 */
export class RotaryTable {
  readonly headDim: number;
  /** The trained context: positions from here on are extrapolation. */
  readonly seqLen: number;
  private cos: Float32Array;
  private sin: Float32Array;
  private filled: number;
  private readonly frequencies: Float32Array;

  constructor(headDim: number, seqLen: number, stored?: { cos: Float32Array; sin: Float32Array }) {
    this.headDim = headDim;
    this.seqLen = seqLen;
    this.frequencies = ropeFrequencies(headDim);
    if (stored) {
      this.cos = stored.cos;
      this.sin = stored.sin;
      this.filled = seqLen;
    } else {
      this.cos = new Float32Array(0);
      this.sin = new Float32Array(0);
      this.filled = 0;
    }
  }

  /** True when `position` lies past the trained context. */
  isExtrapolated(position: number): boolean {
    return position >= this.seqLen;
  }

  /** Makes positions [0, end) available; grows by doubling so long generations stay cheap. */
  ensure(end: number): void {
    if (end <= this.filled) return;
    const half = this.headDim / 2;
    const capacity = Math.max(end, this.filled * 2, 64);
    const cos = new Float32Array(capacity * half);
    const sin = new Float32Array(capacity * half);
    cos.set(this.cos.subarray(0, this.filled * half));
    sin.set(this.sin.subarray(0, this.filled * half));
    fillRopeAngles(this.frequencies, this.filled, capacity, cos, sin);
    this.cos = cos;
    this.sin = sin;
    this.filled = capacity;
  }

  /**
   * Rotates, in place, `count` rows of `heads` heads each, stored token-major ([count][heads·headDim]), where row t
   * sits at absolute position `start + t`.
   */
  rotate(rows: Float32Array, count: number, heads: number, start: number): void {
    this.ensure(start + count);
    const half = this.headDim / 2;
    const width = heads * this.headDim;
    for (let t = 0; t < count; t++) {
      const angle = (start + t) * half;
      for (let h = 0; h < heads; h++) {
        const base = t * width + h * this.headDim;
        for (let j = 0; j < half; j++) {
          const c = this.cos[angle + j] as number;
          const s = this.sin[angle + j] as number;
          const a = rows[base + 2 * j] as number;
          const b = rows[base + 2 * j + 1] as number;
          rows[base + 2 * j] = a * c - b * s;
          rows[base + 2 * j + 1] = a * s + b * c;
        }
      }
    }
  }

  /** The same rotation on a head-major tensor's data [heads][count][headDim] (row t at position `start + t`). */
  rotateHeads(data: Float32Array, heads: number, count: number, start: number): void {
    this.ensure(start + count);
    const half = this.headDim / 2;
    const d = this.headDim;
    const cos = this.cos;
    const sin = this.sin;
    for (let h = 0; h < heads; h++) {
      for (let t = 0; t < count; t++) {
        const angle = (start + t) * half;
        const base = (h * count + t) * d;
        for (let j = 0; j < half; j++) {
          const c = cos[angle + j] as number;
          const s = sin[angle + j] as number;
          const a = data[base + 2 * j] as number;
          const b = data[base + 2 * j + 1] as number;
          data[base + 2 * j] = a * c - b * s;
          data[base + 2 * j + 1] = a * s + b * c;
        }
      }
    }
  }
}

/** θ_j = 1 / 10000^(2j/headDim) in float32, j < headDim/2. */
export function ropeFrequencies(headDim: number): Float32Array {
  const out = new Float32Array(headDim / 2);
  for (let j = 0; j < out.length; j++) out[j] = 1 / Math.fround(ROPE_THETA ** Math.fround((2 * j) / headDim));
  return out;
}

/** cos and sin of Math.fround(pos·θ_j) for positions [from, to), written at [pos·half + j]. */
export function fillRopeAngles(frequencies: Float32Array, from: number, to: number, cos: Float32Array, sin: Float32Array): void {
  const half = frequencies.length;
  for (let pos = from; pos < to; pos++) {
    for (let j = 0; j < half; j++) {
      const angle = Math.fround(pos * (frequencies[j] as number));
      cos[pos * half + j] = Math.cos(angle);
      sin[pos * half + j] = Math.sin(angle);
    }
  }
}

/** The rotary table of a checkpoint: its stored tables when it has them (v0), else computed. */
export function rotaryTableOf(weights: LlamaWeights): RotaryTable {
  const { headDim, seqLen } = weights.config;
  const stored = weights.freqCisReal && weights.freqCisImag ? { cos: weights.freqCisReal, sin: weights.freqCisImag } : undefined;
  return new RotaryTable(headDim, seqLen, stored);
}
