import type { AttendResult } from '../backend.js';
import { expectModdedScore, type MaskMod, type ScoreMod } from '../masks/mask-mod.js';
import { type AttentionMask, fillRowMembership } from '../masks/sparse-mask.js';
import type { TokenSelection } from '../masks/token-selection.js';
import { createHeadTensor, type HeadTensor, kvHeadOf } from '../tensor/head-tensor.js';
import type { AttentionInput, AttentionShape, ValidateOptions } from '../tensor/shape.js';
import { type AttendCall, type DecodeCall, resolveAttendCall, resolveDecodeCall } from './attend-call.js';
import { fakeQuantizeRow } from './fake-quantize.js';

export { resolveScale } from './attend-call.js';

export interface ReferenceOptions extends ValidateOptions {
  /** Any mask form; absent means dense. */
  readonly mask?: AttentionMask | undefined;
  /** Default true. */
  readonly causal?: boolean | undefined;
  /** Default 1/√dim. */
  readonly scale?: number | undefined;
  readonly scoreMod?: ScoreMod | undefined;
}

/**
 * Exact attention accumulated in float64: the oracle for every kernel, estimator and metric. Supports every mask
 * form, GQA, qOffset (chunked prefill and decode), causal and scoreMod. A row that keeps no key returns zeros and
 * lse = -Infinity. Validates like every backend (resolveAttendCall), plus the finiteness scan unless turned off.
 */
export function referenceAttention(input: AttentionInput, options: ReferenceOptions = {}): AttendResult {
  // A bare MaskMod is evaluated pair by pair: the oracle should not depend on block classification.
  const maskMod = typeof options?.mask === 'function' ? options.mask : undefined;
  const call = resolveAttendCall(input, maskMod ? { ...options, mask: undefined } : options, options);
  return referenceAttendCall(call, maskMod);
}

/** The reference backend's attend: a resolved call (and, for referenceAttention, a MaskMod read pair by pair). */
export function referenceAttendCall(call: AttendCall, maskMod?: MaskMod): AttendResult {
  const { shape, mask } = call;
  return attendRows(call.input, shape, {
    out: call.out,
    causal: call.causal,
    scale: call.scale,
    scoreMod: call.scoreMod,
    keys: (h, i, out) => {
      if (mask) fillRowMembership(mask, h, i, shape.qOffset, false, out);
      else if (maskMod) for (let j = 0; j < out.length; j++) out[j] = maskMod(h, shape.qOffset + i, j) ? 1 : 0;
      else out.fill(1);
    },
  });
}

export interface ReferenceDecodeOptions extends ValidateOptions {
  readonly selection?: TokenSelection | undefined;
  readonly causal?: boolean | undefined;
  readonly scale?: number | undefined;
  readonly scoreMod?: ScoreMod | undefined;
}

/**
 * Decoding over a cache through a TokenSelection: query head h reads the slots of its kv head. Slots with a
 * precision below 32 bits are read through symmetric per-token fake quantisation of their K and V rows.
 */
export function referenceDecode(input: AttentionInput, options: ReferenceDecodeOptions = {}): AttendResult {
  return referenceDecodeCall(resolveDecodeCall(input, options, options));
}

/** The reference backend's decode: a resolved call. */
export function referenceDecodeCall(call: DecodeCall): AttendResult {
  const { shape, selection } = call;
  const quantized = selection?.precision ? applySlotPrecision(call.input.k, call.input.v, selection) : undefined;
  const source = quantized ? { ...call.input, k: quantized.k, v: quantized.v } : call.input;
  return attendRows(source, shape, {
    causal: call.causal,
    scale: call.scale,
    scoreMod: call.scoreMod,
    keys: (h, _i, out) => {
      if (!selection) {
        out.fill(1);
        return;
      }
      out.fill(0);
      for (const s of selection.slotsOf(kvHeadOf(h, shape.heads, shape.kvHeads))) out[s] = 1;
    },
  });
}

/**
 * K and V as a decode step reads them: each selected slot whose precision is below 32 bits is rounded as stored
 * (symmetric per-token fake quantisation, or float16). Copies; the caller's cache is untouched. Backends that do not
 * store low-precision caches natively use this to match the reference.
 */
export function applySlotPrecision(k: HeadTensor, v: HeadTensor, selection: TokenSelection): { k: HeadTensor; v: HeadTensor } {
  const kq = createHeadTensor(k.heads, k.length, k.dim, k.data.slice());
  const vq = createHeadTensor(v.heads, v.length, v.dim, v.data.slice());
  const d = k.dim;
  for (let g = 0; g < selection.kvHeads; g++) {
    const slots = selection.slotsOf(g);
    const bits = selection.precisionOf(g);
    if (!bits) continue;
    for (let p = 0; p < slots.length; p++) {
      const b = bits[p] as number;
      if (b >= 32) continue;
      const at = (g * k.length + (slots[p] as number)) * d;
      fakeQuantizeRow(kq.data.subarray(at, at + d), b);
      fakeQuantizeRow(vq.data.subarray(at, at + d), b);
    }
  }
  return { k: kq, v: vq };
}

interface RowPlan {
  readonly causal: boolean;
  readonly scale: number;
  readonly scoreMod: ScoreMod | undefined;
  /** The output tensor to fill (zeroed first: empty rows stay zeros); undefined: a new one. */
  readonly out?: HeadTensor | undefined;
  /** Fills out[0..kvLength) with 1 for keys the row may read (before causality). */
  readonly keys: (h: number, i: number, out: Uint8Array) => void;
}

/** The float64 row loop shared by attention and decode. */
function attendRows(input: AttentionInput, shape: AttentionShape, plan: RowPlan): AttendResult {
  const { heads, kvHeads, qLength, kvLength, dim, qOffset } = shape;
  const out = plan.out ?? createHeadTensor(heads, qLength, dim);
  if (plan.out) out.data.fill(0);
  const lse = new Float32Array(heads * qLength);
  const keep = new Uint8Array(kvLength);
  const logits = new Float64Array(kvLength);
  const acc = new Float64Array(dim);
  const q = input.q.data;
  const k = input.k.data;
  const v = input.v.data;
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    for (let i = 0; i < qLength; i++) {
      const qPos = qOffset + i;
      plan.keys(h, i, keep);
      const last = plan.causal ? Math.min(kvLength - 1, qPos) : kvLength - 1;
      const qBase = (h * qLength + i) * dim;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        if (!keep[j]) continue;
        const kBase = (g * kvLength + j) * dim;
        let s = 0;
        for (let c = 0; c < dim; c++) s += (q[qBase + c] as number) * (k[kBase + c] as number);
        s *= plan.scale;
        if (plan.scoreMod) s = plan.scoreMod(s, h, qPos, j);
        logits[j] = s;
        if (s > max) max = s;
      }
      if (max === -Infinity) {
        lse[h * qLength + i] = -Infinity;
        continue;
      }
      acc.fill(0);
      let sum = 0;
      for (let j = 0; j <= last; j++) {
        if (!keep[j]) continue;
        const p = Math.exp((logits[j] as number) - max);
        if (p === 0) continue;
        sum += p;
        const vBase = (g * kvLength + j) * dim;
        for (let c = 0; c < dim; c++) acc[c] = (acc[c] as number) + p * (v[vBase + c] as number);
      }
      const oBase = (h * qLength + i) * dim;
      for (let c = 0; c < dim; c++) out.data[oBase + c] = (acc[c] as number) / sum;
      lse[h * qLength + i] = max + Math.log(sum);
    }
  }
  return { output: out, lse };
}

/** Exact probabilities of one query row over all keys (float64), after mask-free causal softmax. */
export function referenceRowProbabilities(
  input: AttentionInput,
  shape: AttentionShape,
  h: number,
  i: number,
  options: { causal: boolean; scale: number; scoreMod?: ScoreMod | undefined },
  out: Float64Array,
): void {
  const { heads, kvHeads, kvLength, dim, qLength, qOffset } = shape;
  const g = kvHeadOf(h, heads, kvHeads);
  const qPos = qOffset + i;
  const last = options.causal ? Math.min(kvLength - 1, qPos) : kvLength - 1;
  const qBase = (h * qLength + i) * dim;
  const q = input.q.data;
  const k = input.k.data;
  let max = -Infinity;
  out.fill(0);
  for (let j = 0; j <= last; j++) {
    const kBase = (g * kvLength + j) * dim;
    let s = 0;
    for (let c = 0; c < dim; c++) s += (q[qBase + c] as number) * (k[kBase + c] as number);
    s *= options.scale;
    if (options.scoreMod) s = expectModdedScore(options.scoreMod(s, h, qPos, j), h, qPos, j);
    out[j] = s;
    if (s > max) max = s;
  }
  if (max === -Infinity) {
    out.fill(0);
    return;
  }
  let sum = 0;
  for (let j = 0; j <= last; j++) {
    const p = Math.exp((out[j] as number) - max);
    out[j] = p;
    sum += p;
  }
  for (let j = 0; j <= last; j++) out[j] = (out[j] as number) / sum;
}
