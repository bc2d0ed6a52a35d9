import type {
  BlockScores,
  LastQueriesOptions,
  PooledScoresOptions,
  PoolKind,
  ProbeSums,
  QuantizedScoresOptions,
  ScoreInput,
  ScoreRows,
} from '../backend.js';
import { type HeadTensor, kvHeadOf } from '../tensor/head-tensor.js';
import { type LastQueriesCall, resolveLastQueriesCall, resolvePooledScoresCall, resolveQuantizedScoresCall } from './op-options.js';

/** Pools rows [r0, r1) of one head of `t` into `out` (length dim) with mean, max or min, in float64. */
export function poolRows(t: HeadTensor, head: number, r0: number, r1: number, kind: PoolKind, out: Float64Array): void {
  const d = t.dim;
  out.fill(kind === 'mean' ? 0 : kind === 'max' ? -Infinity : Infinity);
  for (let r = r0; r < r1; r++) {
    const base = (head * t.length + r) * d;
    for (let c = 0; c < d; c++) {
      const x = t.data[base + c] as number;
      const cur = out[c] as number;
      out[c] = kind === 'mean' ? cur + x : kind === 'max' ? Math.max(cur, x) : Math.min(cur, x);
    }
  }
  if (kind === 'mean') for (let c = 0; c < d; c++) out[c] = (out[c] as number) / (r1 - r0);
}

/**
 * Reference of `Backend.pooledScores`: per query head, pool Q over blocks of blockQ rows and K over blocks of blockK
 * keys, and take scale · (pooled q · pooled k). With `causal`, blocks whose first key lies after the block's last
 * query get -Infinity.
 */
export function referencePooledScores(input: ScoreInput, options: PooledScoresOptions): BlockScores {
  const { shape, blockQ, blockK, qBlocks, kBlocks, scale, causal, qPool, kPool } = resolvePooledScoresCall(input, options);
  const data = new Float32Array(shape.heads * qBlocks * kBlocks);
  const pk = new Float64Array(kBlocks * shape.dim);
  const tmp = new Float64Array(shape.dim);
  const pq = new Float64Array(shape.dim);
  let pooledFor = -1;
  for (let h = 0; h < shape.heads; h++) {
    const g = kvHeadOf(h, shape.heads, shape.kvHeads);
    if (g !== pooledFor) {
      for (let kb = 0; kb < kBlocks; kb++) {
        poolRows(input.k, g, kb * blockK, Math.min(shape.kvLength, (kb + 1) * blockK), kPool, tmp);
        pk.set(tmp, kb * shape.dim);
      }
      pooledFor = g;
    }
    for (let qb = 0; qb < qBlocks; qb++) {
      const r1 = Math.min(shape.qLength, (qb + 1) * blockQ);
      poolRows(input.q, h, qb * blockQ, r1, qPool, pq);
      const lastQ = shape.qOffset + r1 - 1;
      for (let kb = 0; kb < kBlocks; kb++) {
        const at = (h * qBlocks + qb) * kBlocks + kb;
        if (causal && kb * blockK > lastQ) {
          data[at] = -Infinity;
          continue;
        }
        let s = 0;
        for (let c = 0; c < shape.dim; c++) s += (pq[c] as number) * (pk[kb * shape.dim + c] as number);
        data[at] = s * scale;
      }
    }
  }
  return { kind: 'blocks', data, heads: shape.heads, qBlocks, kBlocks, blockQ, blockK };
}

/**
 * Reference of `Backend.lastQueriesAttention`: softmax (float64) of the last `count` query rows against every key,
 * with causality; row r of the result is query row qLength - count + r.
 */
export function referenceLastQueriesAttention(input: ScoreInput, options: LastQueriesOptions): ScoreRows {
  const { shape, count, rowStart, scale, causal } = resolveLastQueriesCall(input, options);
  const { kvLength, dim } = shape;
  const data = new Float32Array(shape.heads * count * kvLength);
  const row = new Float64Array(kvLength);
  for (let h = 0; h < shape.heads; h++) {
    const g = kvHeadOf(h, shape.heads, shape.kvHeads);
    for (let r = 0; r < count; r++) {
      const i = rowStart + r;
      const last = causal ? Math.min(kvLength - 1, shape.qOffset + i) : kvLength - 1;
      const qBase = (h * shape.qLength + i) * dim;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        const kBase = (g * kvLength + j) * dim;
        let s = 0;
        for (let c = 0; c < dim; c++) s += (input.q.data[qBase + c] as number) * (input.k.data[kBase + c] as number);
        s *= scale;
        row[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j <= last; j++) {
        row[j] = Math.exp((row[j] as number) - max);
        sum += row[j] as number;
      }
      const base = (h * count + r) * kvLength;
      for (let j = 0; j <= last; j++) data[base + j] = (row[j] as number) / sum;
    }
  }
  return { kind: 'rows', data, heads: shape.heads, rowStart, rows: count, kvLength };
}

/**
 * Sums probe rows by column and by diagonal (`Backend.lastQueriesSums`): `data[at + (h · count + r) · kvLength + j]`
 * is the probability of row r of head h for key j, laid out as `lastQueriesAttention` returns it. Backends call it
 * on the probe where it lies (their own memory), so the rows are never copied out.
 */
export function sumProbeRows(data: ArrayLike<number>, at: number, call: LastQueriesCall): ProbeSums {
  const { shape, count, rowStart } = call;
  const { heads, kvLength } = shape;
  const { slashOrigin, slashLength, rowBase } = probeSumsLayout(call);
  const vertical = new Float64Array(heads * kvLength);
  const slash = new Float64Array(heads * slashLength);
  for (let h = 0; h < heads; h++) {
    const v = h * kvLength;
    for (let r = 0; r < count; r++) {
      const base = at + (h * count + r) * kvLength;
      const s = h * slashLength + rowBase + r;
      for (let j = 0; j < kvLength; j++) {
        const p = data[base + j] as number;
        if (p === 0) continue;
        vertical[v + j] = (vertical[v + j] as number) + p;
        slash[s - j] = (slash[s - j] as number) + p;
      }
    }
  }
  return { kind: 'probe-sums', heads, rowStart, rows: count, kvLength, vertical, slash, slashOrigin, slashLength };
}

/**
 * How a last-queries call's ProbeSums are laid out: `slashLength` diagonals per head, diagonal δ at δ + slashOrigin;
 * probe row r (0-based among the call's rows) of head h adds key j at slash index h·slashLength + rowBase + r − j
 * (key j lies on diagonal pos − j). For backends that sum the probe where they compute it.
 */
export function probeSumsLayout(call: LastQueriesCall): { slashOrigin: number; slashLength: number; rowBase: number } {
  const { shape, count, rowStart } = call;
  const slashOrigin = shape.kvLength - 1;
  const first = shape.qOffset + rowStart;
  return { slashOrigin, slashLength: slashOrigin + Math.max(0, first + count - 1) + 1, rowBase: first + slashOrigin };
}

/** Reference of `Backend.lastQueriesSums`: the reference probe, summed. */
export function referenceLastQueriesSums(input: ScoreInput, options: LastQueriesOptions): ProbeSums {
  return sumProbeRows(referenceLastQueriesAttention(input, options).data, 0, resolveLastQueriesCall(input, options));
}

/** Symmetric per-row quantisation to integers in [-(2^(bits-1)-1), 2^(bits-1)-1]; returns the row's scale. */
export function quantizeRowTo(
  src: ArrayLike<number>,
  offset: number,
  dim: number,
  bits: number,
  out: Int8Array | Float64Array,
  outOffset: number,
): number {
  const qmax = 2 ** (bits - 1) - 1;
  let absmax = 0;
  for (let c = 0; c < dim; c++) absmax = Math.max(absmax, Math.abs(src[offset + c] as number));
  const scale = absmax === 0 ? 1 : absmax / qmax;
  for (let c = 0; c < dim; c++) {
    out[outOffset + c] = Math.max(-qmax, Math.min(qmax, Math.round((src[offset + c] as number) / scale)));
  }
  return scale;
}

/**
 * Symmetric quantisation of rows [start, start + count) of every head of `x` ([heads][length][dim]) to `bits`, after
 * subtracting the head's channel `means` ([heads][dim], float64) when given. Rows share one scale per group of
 * `group` consecutive rows of a head (the absmax over the whole group, rows outside [start, start + count)
 * included); group 1 is per-row quantisation, exactly `quantizeRowTo`. Integers go to `out` from `outOffset`, one
 * row every `outStride` values; returns the scales, one per output row ([heads][count]).
 */
export function quantizeRowsGrouped(
  x: ArrayLike<number>,
  shape: { readonly heads: number; readonly length: number; readonly dim: number },
  bits: number,
  group: number,
  means: Float64Array | undefined,
  start: number,
  count: number,
  out: Int8Array | Float64Array,
  outOffset: number,
  outStride: number,
): Float64Array {
  const { heads, length, dim } = shape;
  const qmax = 2 ** (bits - 1) - 1;
  const scales = new Float64Array(heads * count);
  // Tight loops, no per-element closures: the cpu backend quantises every Q and K row of a call through this.
  const centred = new Float64Array(dim);
  for (let h = 0; h < heads; h++) {
    const meanAt = h * dim;
    let groupStart = -1;
    let scale = 1;
    for (let r = 0; r < count; r++) {
      const i = start + r;
      const g0 = Math.floor(i / group) * group;
      if (g0 !== groupStart) {
        groupStart = g0;
        let absmax = 0;
        const g1 = Math.min(length, g0 + group);
        for (let a = g0; a < g1; a++) {
          const at = (h * length + a) * dim;
          for (let c = 0; c < dim; c++) {
            const v = Math.abs((x[at + c] as number) - (means ? (means[meanAt + c] as number) : 0));
            if (v > absmax) absmax = v;
          }
        }
        scale = absmax === 0 ? 1 : absmax / qmax;
      }
      scales[h * count + r] = scale;
      const at = (h * length + i) * dim;
      for (let c = 0; c < dim; c++) centred[c] = (x[at + c] as number) - (means ? (means[meanAt + c] as number) : 0);
      const o = outOffset + (h * count + r) * outStride;
      for (let c = 0; c < dim; c++) {
        const level = Math.round((centred[c] as number) / scale);
        out[o + c] = Math.max(-qmax, Math.min(qmax, level));
      }
    }
  }
  return scales;
}

/** K's per-head channel means over the sequence ([kvHeads][dim], float64): SALE's smoothing. */
export function channelMeans(k: ArrayLike<number>, heads: number, length: number, dim: number): Float64Array {
  const mean = new Float64Array(heads * dim);
  for (let g = 0; g < heads; g++) {
    for (let j = 0; j < length; j++)
      for (let c = 0; c < dim; c++) mean[g * dim + c] = (mean[g * dim + c] as number) + (k[(g * length + j) * dim + c] as number);
    for (let c = 0; c < dim; c++) mean[g * dim + c] = (mean[g * dim + c] as number) / length;
  }
  return mean;
}

/**
 * Reference of `Backend.quantizedScores`: optionally smooth K (subtract its per-channel mean over the sequence),
 * quantise Q and K rows to `bits` (symmetric, per token or per group of rows, round half up), and return
 * scale · s_q · s_k · (q_int · k_int) − rowBias for the requested rows, or its max per (query block, key block) when
 * `pool` is set.
 */
export function referenceQuantizedScores(input: ScoreInput, options: QuantizedScoresOptions): ScoreRows | BlockScores {
  const { shape, bits, scale, causal, smoothK, rowStart, rows, pool, rowBias, qGroup, kGroup } = resolveQuantizedScoresCall(input, options);
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const kq = new Float64Array(kvHeads * kvLength * dim);
  const means = smoothK ? channelMeans(input.k.data, kvHeads, kvLength, dim) : undefined;
  const kScale = quantizeRowsGrouped(input.k.data, { heads: kvHeads, length: kvLength, dim }, bits, kGroup, means, 0, kvLength, kq, 0, dim);
  const qq = new Float64Array(heads * rows * dim);
  const qScale = quantizeRowsGrouped(input.q.data, { heads, length: qLength, dim }, bits, qGroup, undefined, rowStart, rows, qq, 0, dim);
  const out = new Float32Array(heads * rows * kvLength);
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    for (let r = 0; r < rows; r++) {
      const i = rowStart + r;
      const sq = qScale[h * rows + r] as number;
      const bias = rowBias ? (rowBias[h * rows + r] as number) : 0;
      const qb = (h * rows + r) * dim;
      const base = (h * rows + r) * kvLength;
      for (let j = 0; j < kvLength; j++) {
        if (causal && j > qOffset + i) {
          out[base + j] = -Infinity;
          continue;
        }
        let dot = 0;
        const kb = (g * kvLength + j) * dim;
        for (let c = 0; c < dim; c++) dot += (qq[qb + c] as number) * (kq[kb + c] as number);
        out[base + j] = dot * sq * (kScale[g * kvLength + j] as number) * scale - bias;
      }
    }
  }
  if (!pool) return { kind: 'rows', data: out, heads, rowStart, rows, kvLength };
  return maxPoolRows(out, heads, qLength, kvLength, pool.blockQ, pool.blockK);
}

/** Max over each (blockQ × blockK) tile of full score rows [heads][qLength][kvLength]. */
export function maxPoolRows(
  rows: Float32Array,
  heads: number,
  qLength: number,
  kvLength: number,
  blockQ: number,
  blockK: number,
): BlockScores {
  const qBlocks = Math.ceil(qLength / blockQ);
  const kBlocks = Math.ceil(kvLength / blockK);
  const data = new Float32Array(heads * qBlocks * kBlocks).fill(-Infinity);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < qLength; i++) {
      const base = (h * qLength + i) * kvLength;
      const rowBase = (h * qBlocks + Math.floor(i / blockQ)) * kBlocks;
      for (let j = 0; j < kvLength; j++) {
        const at = rowBase + Math.floor(j / blockK);
        const x = rows[base + j] as number;
        if (x > (data[at] as number)) data[at] = x;
      }
    }
  }
  return { kind: 'blocks', data, heads, qBlocks, kBlocks, blockQ, blockK };
}
