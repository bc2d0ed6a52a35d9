import { describeValue, SparselandError } from '../errors.js';
import { LIMITS } from '../limits.js';
import type { HeadTensor } from './head-tensor.js';

/**
 * The geometry a mask is built for. `heads` counts query heads. Query row i sits at absolute position
 * `qOffset + i`; keys sit at positions 0..kvLength-1. `layer` lets per-layer patterns (PowerAttention,
 * MASFormer mixes) and per-layer recipes know where they are.
 */
export interface MaskShape {
  readonly heads: number;
  readonly qLength: number;
  readonly kvLength: number;
  readonly qOffset: number;
  readonly layer?: number;
}

/** Everything a kernel needs to know about one attention call. `heads` is the query-head count (Hq). */
export interface AttentionShape extends MaskShape {
  readonly kvHeads: number;
  readonly dim: number;
}

/** q: [Hq, Lq, d], k and v: [Hkv, Lkv, d]. `qOffset` defaults to `kvLength - qLength` (chunked prefill, decode). */
export interface AttentionInput {
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly v: HeadTensor;
  readonly qOffset?: number;
}

function isHeadTensor(t: unknown): t is HeadTensor {
  if (typeof t !== 'object' || t === null) return false;
  const x = t as Partial<HeadTensor>;
  return (
    x.data instanceof Float32Array &&
    Number.isInteger(x.heads) &&
    Number.isInteger(x.length) &&
    Number.isInteger(x.dim) &&
    (x.heads ?? 0) >= 1 &&
    (x.length ?? -1) >= 0 &&
    (x.dim ?? 0) >= 1 &&
    x.data.length === (x.heads ?? 0) * (x.length ?? 0) * (x.dim ?? 0)
  );
}

/** Throws E_SHAPE unless heads, length and dim are within LIMITS (checked before anything is allocated). */
export function expectTensorSize(heads: number, length: number, dim: number, what: string): void {
  const over =
    heads > LIMITS.heads
      ? `heads ${heads} > ${LIMITS.heads}`
      : length > LIMITS.length
        ? `length ${length} > ${LIMITS.length}`
        : dim > LIMITS.dim
          ? `dim ${dim} > ${LIMITS.dim}`
          : heads * length * dim > LIMITS.tensorValues
            ? `heads·length·dim = ${heads * length * dim} > ${LIMITS.tensorValues} values`
            : undefined;
  if (over) {
    throw new SparselandError('E_SHAPE', `${what} is larger than sparseland's limits (${over}; see LIMITS)`, { heads, length, dim });
  }
}

/** Throws E_SHAPE unless `t` is a well-formed HeadTensor within LIMITS. */
export function expectHeadTensor(t: unknown, what: string): HeadTensor {
  if (!isHeadTensor(t)) {
    const x = t as Partial<HeadTensor> | undefined;
    const got =
      x && typeof x === 'object' && 'data' in x
        ? `heads=${describeValue(x.heads)}, length=${describeValue(x.length)}, dim=${describeValue(x.dim)}, data=${describeValue(x.data)}`
        : describeValue(t);
    throw new SparselandError(
      'E_SHAPE',
      `${what} must be a HeadTensor {data: Float32Array of heads·length·dim, heads, length, dim}, got ${got}`,
    );
  }
  expectTensorSize(t.heads, t.length, t.dim, what);
  return t;
}

/** Throws E_NONFINITE at the first NaN or ±Infinity in `t`, naming the head, position and channel. */
export function expectFinite(t: HeadTensor, what: string): void {
  const { data, length, dim } = t;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    if (x - x !== 0) {
      const h = Math.floor(i / (length * dim));
      const pos = Math.floor(i / dim) % Math.max(length, 1);
      throw new SparselandError('E_NONFINITE', `${what} must be finite, got ${x} at head ${h}, position ${pos}, channel ${i % dim}`, {
        what,
        head: h,
        position: pos,
        channel: i % dim,
      });
    }
  }
}

export interface ValidateOptions {
  /** Scan Q, K and V for NaN/Infinity (default true). Hot loops that already validated can turn it off. */
  readonly checkFinite?: boolean;
}

/**
 * Validates q, k, v once at the public boundary and returns the call's shape. Kernels trust what comes out of here.
 */
export function resolveAttentionShape(input: AttentionInput, options: ValidateOptions = {}): AttentionShape {
  if (typeof input !== 'object' || input === null) {
    throw new SparselandError('E_SHAPE', `attention input must be an object {q, k, v, qOffset?}, got ${describeValue(input)}`);
  }
  const q = expectHeadTensor(input.q, 'q');
  const k = expectHeadTensor(input.k, 'k');
  const v = expectHeadTensor(input.v, 'v');
  if (k.heads !== v.heads || k.length !== v.length) {
    throw new SparselandError(
      'E_SHAPE',
      `k and v must have the same heads and length, got k [${k.heads}, ${k.length}] and v [${v.heads}, ${v.length}]`,
    );
  }
  if (q.dim !== k.dim || v.dim !== k.dim) {
    throw new SparselandError('E_SHAPE', `q, k and v must share the head dim, got q ${q.dim}, k ${k.dim}, v ${v.dim}`);
  }
  if (q.heads % k.heads !== 0) {
    throw new SparselandError(
      'E_SHAPE',
      `query heads must be a multiple of kv heads (grouped-query attention), got Hq = ${q.heads} and Hkv = ${k.heads}`,
      { qHeads: q.heads, kvHeads: k.heads },
    );
  }
  if (q.length < 1 || k.length < 1) {
    throw new SparselandError('E_SHAPE', `q and k need at least one position, got qLength ${q.length} and kvLength ${k.length}`);
  }
  const qOffset = input.qOffset ?? Math.max(0, k.length - q.length);
  if (!Number.isInteger(qOffset) || qOffset < 0) {
    throw new SparselandError(
      'E_SHAPE',
      `qOffset must be an integer >= 0 (the absolute position of query row 0), got ${describeValue(qOffset)}`,
    );
  }
  if (options.checkFinite !== false) {
    expectFinite(q, 'q');
    expectFinite(k, 'k');
    expectFinite(v, 'v');
  }
  return { heads: q.heads, kvHeads: k.heads, qLength: q.length, kvLength: k.length, dim: q.dim, qOffset };
}

/**
 * The finiteness rule of `attention()`: Q, K and V must be finite, and small enough that no logit or output can
 * overflow float32 in any kernel — scale · dim · max|q| · max|k| ≤ LIMITS.logit and max|v| ≤ LIMITS.logit.
 * Throws E_NONFINITE naming the first bad value (or the bound that failed). One pass over the inputs.
 */
export function expectInputsInRange(input: AttentionInput, shape: AttentionShape, scale: number): void {
  const maxQ = maxAbsFinite(input.q, 'q');
  const maxK = maxAbsFinite(input.k, 'k');
  const maxV = maxAbsFinite(input.v, 'v');
  const logitBound = scale * shape.dim * maxQ * maxK;
  if (!(logitBound <= LIMITS.logit) || !(maxV <= LIMITS.logit)) {
    throw new SparselandError(
      'E_NONFINITE',
      `inputs too large for float32 attention: need scale·dim·max|q|·max|k| <= ${LIMITS.logit} and max|v| <= ${LIMITS.logit}, got ${logitBound.toExponential(3)} and ${maxV.toExponential(3)}`,
      { maxQ, maxK, maxV, scale },
    );
  }
}

/** Largest |x| of a tensor; throws E_NONFINITE (through expectFinite's message) at the first NaN or ±Infinity. */
function maxAbsFinite(t: HeadTensor, what: string): number {
  const data = t.data;
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    const a = x < 0 ? -x : x;
    if (a <= max) continue;
    if (a > max) max = a;
    else expectFinite(t, what); // NaN: every comparison is false
  }
  if (max === Infinity) expectFinite(t, what);
  return max;
}

/**
 * In a causal call every query row keeps its own key, so the rows must not pass the last key:
 * qOffset + qLength ≤ kvLength (E_SHAPE otherwise). A causal query after the last key would see the whole cache
 * and nothing of its own — almost always an off-by-one in the caller's positions (append the new keys first, as the
 * model runtime does). Non-causal calls may have any geometry (cross-attention: positions only matter to masks).
 */
export function expectCausalPositions(shape: AttentionShape, causal: boolean): void {
  if (!causal || shape.qOffset + shape.qLength <= shape.kvLength) return;
  throw new SparselandError(
    'E_SHAPE',
    `a causal call's query rows sit at positions qOffset .. qOffset + qLength - 1 and each needs its own key: qOffset + qLength must be <= kvLength, got ${shape.qOffset} + ${shape.qLength} > ${shape.kvLength}`,
    { qOffset: shape.qOffset, qLength: shape.qLength, kvLength: shape.kvLength },
  );
}

/** Whether two typed arrays view overlapping bytes of one buffer (an output written into must not alias an input). */
export function sharesMemory(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}
