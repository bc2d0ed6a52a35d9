import type { LlamaWeights } from '../../src/index.js';

/** Which keys query head h at position qPos may read in a layer (causality is applied on top). */
export type KeepRule = (layer: number, h: number, qPos: number, kPos: number) => boolean;

export interface NaiveResult {
  /** Logits per position [N][vocab], float64. */
  readonly logits: Float64Array[];
  /** Per layer: q after RoPE [N][heads·headDim], k after RoPE and v [N][kvHeads·headDim] (token-major). */
  readonly q: Float64Array[][];
  readonly k: Float64Array[][];
  readonly v: Float64Array[][];
  /** Per layer: attention output [N][heads·headDim]. */
  readonly attention: Float64Array[][];
}

/**
 * A deliberately plain float64 port of llama2.c run.c, one token at a time, written independently of the runtime
 * (own RoPE formula, own matmuls, own softmax). The oracle of the forward-pass tests. Slow: tiny models only.
 */
export function naiveForward(weights: LlamaWeights, tokens: readonly number[], keep?: KeepRule): NaiveResult {
  const c = weights.config;
  const { dim, hiddenDim, heads, kvHeads, headDim, vocabSize } = c;
  const kvDim = kvHeads * headDim;
  const group = heads / kvHeads;
  const result: NaiveResult = {
    logits: [],
    q: Array.from({ length: c.layers }, () => []),
    k: Array.from({ length: c.layers }, () => []),
    v: Array.from({ length: c.layers }, () => []),
    attention: Array.from({ length: c.layers }, () => []),
  };
  const matvec = (w: Float32Array, x: Float64Array, rows: number, cols: number): Float64Array => {
    const out = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += w[i * cols + j]! * x[j]!;
      out[i] = s;
    }
    return out;
  };
  const rmsnorm = (x: Float64Array, g: Float32Array): Float64Array => {
    let ss = 0;
    for (const v of x) ss += v * v;
    const inv = 1 / Math.sqrt(ss / x.length + 1e-5);
    return x.map((v, j) => g[j]! * v * inv);
  };
  const rope = (x: Float64Array, pos: number): void => {
    for (let i = 0; i < x.length; i += 2) {
      const hd = i % headDim;
      const angle = pos * 10000 ** (-hd / headDim);
      const a = x[i]!;
      const b = x[i + 1]!;
      x[i] = a * Math.cos(angle) - b * Math.sin(angle);
      x[i + 1] = a * Math.sin(angle) + b * Math.cos(angle);
    }
  };
  tokens.forEach((token, pos) => {
    let x = Float64Array.from(weights.tokenEmbedding.subarray(token * dim, (token + 1) * dim));
    for (let l = 0; l < c.layers; l++) {
      const w = weights.layers[l]!;
      const xb = rmsnorm(x, w.rmsAtt);
      const q = matvec(w.wq, xb, dim, dim);
      const k = matvec(w.wk, xb, kvDim, dim);
      const v = matvec(w.wv, xb, kvDim, dim);
      rope(q, pos);
      rope(k, pos);
      result.q[l]!.push(q);
      result.k[l]!.push(k);
      result.v[l]!.push(v);
      const att = new Float64Array(dim);
      for (let h = 0; h < heads; h++) {
        const g = Math.floor(h / group);
        const scores: number[] = [];
        const kept: number[] = [];
        for (let t = 0; t <= pos; t++) {
          if (keep && !keep(l, h, pos, t)) continue;
          const kt = result.k[l]![t]!;
          let s = 0;
          for (let i = 0; i < headDim; i++) s += q[h * headDim + i]! * kt[g * headDim + i]!;
          scores.push(s / Math.sqrt(headDim));
          kept.push(t);
        }
        if (kept.length === 0) continue;
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        kept.forEach((t, n) => {
          const vt = result.v[l]![t]!;
          for (let i = 0; i < headDim; i++) att[h * headDim + i]! += (e[n]! / sum) * vt[g * headDim + i]!;
        });
      }
      result.attention[l]!.push(att);
      const o = matvec(w.wo, att, dim, dim);
      x = x.map((xi, i) => xi + o[i]!);
      const xf = rmsnorm(x, w.rmsFfn);
      const h1 = matvec(w.w1, xf, hiddenDim, dim);
      const h3 = matvec(w.w3, xf, hiddenDim, dim);
      const hh = h1.map((a, i) => (a / (1 + Math.exp(-a))) * h3[i]!);
      const down = matvec(w.w2, hh, dim, hiddenDim);
      x = x.map((xi, i) => xi + down[i]!);
    }
    result.logits.push(matvec(weights.classifier, rmsnorm(x, weights.rmsFinal), vocabSize, dim));
  });
  return result;
}

/** Largest |a[i] − b[i]|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
