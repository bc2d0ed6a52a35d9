import type { Scorer } from '../parts/compose.js';
import { QueryWindow } from '../parts/query-window.js';
import { meanRotation, type RopeSpec, rotateBy, unrotate } from '../parts/rope.js';

export interface ExpectedAttentionOptions {
  /** Future positions the query distribution is averaged over (the paper's n_future_positions = 512). */
  readonly futurePositions: number;
  /** The first tokens are skipped for the query statistics (n_sink = 4). */
  readonly sink: number;
  /** Add ½·kᵀΣk/d, the covariance term (default on). */
  readonly covariance: boolean;
  /** Multiply by ‖v‖ + epsilon, the value norm (default on). */
  readonly valueNorm: boolean;
  readonly epsilon: number;
  /** Queries the statistics come from (the newest; kvpress's DecodingPress buffers 256 hidden states). */
  readonly statsWindow: number;
  readonly rope: RopeSpec;
}

/**
 * Expected Attention's query-free score: future queries are modelled as a Gaussian (mean μ and covariance Σ of the
 * recent pre-RoPE queries of each query head), rotated by RoPE averaged over the next positions; a key's expected
 * logit is k·μ̃/√d + ½·kᵀΣ̃k/d, softmaxed over the keys, averaged over the kv head's query heads, times ‖v‖ + ε.
 */
export function expectedAttentionScorer(options: ExpectedAttentionOptions): Scorer<QueryWindow> {
  return {
    create: () => new QueryWindow(options.statsWindow),
    observe: (win, { queries, position }) => win.push(queries, position),
    score(win, { cache, ctx }, g) {
      const n = cache.length(g);
      const d = cache.dim;
      const keys = cache.keys(g);
      const values = cache.values(g);
      const q = win.tensor();
      const group = q.heads / cache.kvHeads;
      const rotation = meanRotation(ctx.position, options.futurePositions, d, options.rope);
      const out = new Float64Array(n);
      const logits = new Float64Array(n);
      const row = new Float64Array(d);
      for (let hi = 0; hi < group; hi++) {
        const h = g * group + hi;
        // Statistics of the pre-RoPE queries, skipping the sink positions.
        const mean = new Float64Array(d);
        const cov = new Float64Array(d * d);
        let count = 0;
        const rows: Float64Array[] = [];
        for (let i = 0; i < q.length; i++) {
          const pos = win.position(i);
          if (pos < options.sink) continue;
          const r = Float64Array.from(q.data.subarray((h * q.length + i) * d, (h * q.length + i + 1) * d));
          unrotate(r, pos, options.rope);
          rows.push(r);
          for (let c = 0; c < d; c++) mean[c] = (mean[c] as number) + (r[c] as number);
          count++;
        }
        if (count === 0) continue;
        for (let c = 0; c < d; c++) mean[c] = (mean[c] as number) / count;
        const mu = new Float64Array(d);
        rotateBy(mean, rotation, mu);
        // Σ̃ = R̄ Σ R̄ᵀ, formed as the covariance of the rotated centred queries.
        if (options.covariance && count > 1) {
          for (const r of rows) {
            for (let c = 0; c < d; c++) r[c] = (r[c] as number) - (mean[c] as number);
            rotateBy(r, rotation, row);
            for (let a = 0; a < d; a++) {
              const ra = row[a] as number;
              for (let b = 0; b < d; b++) cov[a * d + b] = (cov[a * d + b] as number) + ra * (row[b] as number);
            }
          }
          for (let i = 0; i < d * d; i++) cov[i] = (cov[i] as number) / count;
        }
        let max = -Infinity;
        for (let s = 0; s < n; s++) {
          const k = keys.subarray(s * d, (s + 1) * d);
          let z = 0;
          for (let c = 0; c < d; c++) z += (k[c] as number) * (mu[c] as number);
          z /= Math.sqrt(d);
          if (options.covariance && count > 1) {
            let quad = 0;
            for (let a = 0; a < d; a++) {
              let t = 0;
              for (let b = 0; b < d; b++) t += (cov[a * d + b] as number) * (k[b] as number);
              quad += (k[a] as number) * t;
            }
            z += quad / (2 * d);
          }
          logits[s] = z;
          if (z > max) max = z;
        }
        let sum = 0;
        for (let s = 0; s < n; s++) {
          const p = Math.exp((logits[s] as number) - max);
          logits[s] = p;
          sum += p;
        }
        for (let s = 0; s < n; s++) out[s] = (out[s] as number) + (logits[s] as number) / sum / group;
      }
      if (options.valueNorm) {
        for (let s = 0; s < n; s++) {
          let norm = 0;
          for (let c = 0; c < d; c++) norm += (values[s * d + c] as number) ** 2;
          out[s] = (out[s] as number) * (Math.sqrt(norm) + options.epsilon);
        }
      }
      return out;
    },
    stateBytes: (win) => win.bytes(),
  };
}
