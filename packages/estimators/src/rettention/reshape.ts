import {
  type AttendResult,
  type AttentionInput,
  type AttentionShape,
  attentionFlops,
  type Backend,
  type HeadTensor,
  type ScoreMod,
  type SparseMask,
} from '@sparseland/core';
import { fillRowMembership } from '@sparseland/core/kit';
import { buildSparseMask } from '../common/mask-builder.js';

/** The sparse call being corrected: what `attention()` ran (core's CorrectionCall, plus an optional score mod). */
export interface ReshapeCall {
  readonly input: AttentionInput;
  readonly shape: AttentionShape;
  readonly causal: boolean;
  /** The logit scale the sparse call used. */
  readonly scale: number;
  /** Applied to the probe's logits too (rettentionAttention passes the call's; corrections have none). */
  readonly scoreMod?: ScoreMod | undefined;
  /** The mask that ran (all heads). */
  readonly mask: SparseMask;
}

export interface ReshapeOptions {
  /** Query rows that share one probe row (the last row of each block of this many rows). */
  readonly blockQ: number;
  /** Also add the dropped keys' output measured on the probe row, weighted 1 − r. */
  readonly residual: boolean;
}

export interface Reshaped extends AttendResult {
  /** Estimated fraction of the dense softmax mass the mask keeps, per query head and row: `[Hq][qLength]`. */
  readonly keptMass: Float32Array;
  /** Query rows whose dense attention the probe computed (the last row of every query block). */
  readonly probeRows: readonly number[];
  /** FLOPs of the probe (attention of the probe rows to their dropped keys, 4·d per pair): estimation work. */
  readonly probeFlops: number;
}

/**
 * Re-ttention's statistical reshape of a sparse attention result: the one implementation behind the `rettention`
 * option of every estimator (an output correction applied by `attention()`) and `rettentionAttention`.
 *
 * The probe attends, on the backend, the last query row of every block of `blockQ` rows to exactly the keys the mask
 * drops for it (the visible keys it does not keep): its log-sum-exp is the dropped softmax mass D of that row, and its
 * output the dropped keys' own attention output. Every row of the block keeps its own mass S = exp(lse_sparse) and
 * gets r = S / (S + D): its output becomes r·O_sparse (the sparse softmax's denominator divided by r, so the kept
 * probabilities sum to r as in dense attention instead of being inflated to 1) and its lse log(S + D). With
 * `residual`, the probe's dropped-key output is added with weight 1 − r, which makes the probe rows exact. Rows that
 * keep nothing get r = 0. Measuring D directly (rather than as dense minus sparse) keeps it exact when the mask keeps
 * almost all of the mass.
 */
export async function rettentionReshape(
  sparse: AttendResult,
  call: ReshapeCall,
  options: ReshapeOptions,
  backend: Backend,
): Promise<Reshaped> {
  const { dim, heads, qLength } = call.shape;
  const blockQ = options.blockQ;
  const qBlocks = Math.ceil(qLength / blockQ);
  const probeRows = Array.from({ length: qBlocks }, (_, b) => Math.min(qLength, (b + 1) * blockQ) - 1);
  const { result: probe, pairs } = await droppedAttention(call, probeRows, backend);
  const output = new Float32Array(sparse.output.data.length);
  const lse = new Float32Array(sparse.lse.length);
  const keptMass = new Float32Array(heads * qLength);
  const sparseOut = sparse.output.data;
  const droppedOut = probe.output.data;
  for (let h = 0; h < heads; h++) {
    for (let b = 0; b < qBlocks; b++) {
      // The probe row's dropped mass (as a log-sum-exp) is the statistic every row of the block shares.
      const dropLse = probe.lse[h * qBlocks + b] as number;
      const from = (h * qBlocks + b) * dim;
      const r1 = Math.min(qLength, (b + 1) * blockQ);
      for (let row = b * blockQ; row < r1; row++) {
        const sparseLse = sparse.lse[h * qLength + row] as number;
        const r = sparseLse === -Infinity ? 0 : dropLse === -Infinity ? 1 : 1 / (1 + Math.exp(dropLse - sparseLse));
        keptMass[h * qLength + row] = r;
        const at = (h * qLength + row) * dim;
        for (let c = 0; c < dim; c++) {
          output[at + c] = r * (sparseOut[at + c] as number) + (options.residual ? (1 - r) * (droppedOut[from + c] as number) : 0);
        }
        lse[h * qLength + row] = logAddExp(sparseLse, dropLse);
      }
    }
  }
  return { output: { ...sparse.output, data: output }, lse, keptMass, probeRows, probeFlops: attentionFlops(pairs, dim) };
}

/**
 * Attention of the given query rows (of every head) to the visible keys the call's mask drops for them, on the
 * backend: the rows form a non-causal call of one-row blocks; `pairs` counts the (head, row, key) pairs it computes.
 * Rows that drop nothing come back with lse −Infinity.
 */
async function droppedAttention(
  call: ReshapeCall,
  rows: readonly number[],
  backend: Backend,
): Promise<{ result: AttendResult; pairs: number }> {
  const { heads, dim, kvLength, qLength, qOffset } = call.shape;
  const source = call.input.q.data;
  const q: HeadTensor = { data: new Float32Array(heads * rows.length * dim), heads, length: rows.length, dim };
  for (let h = 0; h < heads; h++) {
    rows.forEach((i, r) => {
      q.data.set(source.subarray((h * qLength + i) * dim, (h * qLength + i + 1) * dim), (h * rows.length + r) * dim);
    });
  }
  const kept = new Uint8Array(kvLength);
  let pairs = 0;
  const mask = buildSparseMask(
    { heads, qLength: rows.length, kvLength, qOffset: 0 },
    { blockQ: 1, blockK: 64 },
    { causal: false },
    (h, r, sink) => {
      const i = rows[r] as number;
      fillRowMembership(call.mask, h, i, qOffset, false, kept);
      const end = call.causal ? Math.min(kvLength, qOffset + i + 1) : kvLength;
      // Runs of dropped keys: whole key blocks become full blocks, the rest columns.
      let k = 0;
      while (k < end) {
        while (k < end && kept[k]) k++;
        const start = k;
        while (k < end && !kept[k]) k++;
        if (k > start) {
          sink.addKeys(start, k);
          pairs += k - start;
        }
      }
    },
  );
  const positions = rows.map((i) => qOffset + i);
  const userMod = call.scoreMod;
  const scoreMod = userMod ? (s: number, h: number, r: number, k: number) => userMod(s, h, positions[r] as number, k) : undefined;
  const result = await backend.attend(
    { q, k: call.input.k, v: call.input.v, qOffset: 0 },
    { mask, causal: false, scale: call.scale, scoreMod },
  );
  return { result, pairs };
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}
