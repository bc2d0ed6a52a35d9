import type { AttendResult } from '../backend.js';
import { describeValue, SparselandError } from '../errors.js';
import { expectCausal, expectOptions, resolveScale } from '../reference/attend-call.js';
import { createHeadTensor, type HeadTensor, kvHeadOf } from '../tensor/head-tensor.js';
import { expectHeadTensor } from '../tensor/shape.js';
import { expectPackedKvCache, type PackedKvCache, packedHeadLength, unpackKvHead } from './packed-kv.js';

/** A decode step over a packed cache: the new queries [Hq, qLength, dim] and the cache they read. */
export interface PackedDecodeInput {
  readonly q: HeadTensor;
  readonly cache: PackedKvCache;
}

export interface PackedDecodeOptions {
  /**
   * Default true: the queries are the newest qLength tokens, the last qLength slots of every head, and query i
   * reads slots up to length(g) − qLength + i of its kv head.
   */
  readonly causal?: boolean | undefined;
  /** Logit scale (default 1/√dim). */
  readonly scale?: number | undefined;
}

/** A validated packed decode call: what every backend reads. */
export interface PackedDecodeCall {
  readonly heads: number;
  readonly kvHeads: number;
  readonly qLength: number;
  readonly dim: number;
  /** Slots held by each kv head. */
  readonly lengths: Int32Array;
  readonly causal: boolean;
  readonly scale: number;
}

/**
 * Validates a packed decode call once (query tensor, cache structure, GQA, options as resolveDecodeCall reads them,
 * causal needs at least qLength slots per head) so that every backend accepts and rejects exactly the same calls
 * (the conformance kit's packed rejection cases hold them to it).
 */
export function resolvePackedDecodeCall(input: PackedDecodeInput, options: PackedDecodeOptions = {}): PackedDecodeCall {
  if (typeof input !== 'object' || input === null) {
    throw new SparselandError('E_SHAPE', `decodePacked: expected {q, cache}, got ${describeValue(input)}`);
  }
  const q = expectHeadTensor(input.q, 'decodePacked q');
  expectPackedKvCache(input.cache, 'decodePacked cache');
  const { kvHeads, dim } = input.cache;
  if (q.dim !== dim) throw new SparselandError('E_SHAPE', `decodePacked: q has dim ${q.dim} but the cache has dim ${dim}`);
  if (q.heads % kvHeads !== 0) {
    throw new SparselandError('E_SHAPE', `decodePacked: query heads (${q.heads}) must be a multiple of the cache's kv heads (${kvHeads})`);
  }
  const opts = expectOptions(options, 'decodePacked');
  const causal = expectCausal(opts.causal);
  const lengths = Int32Array.from(input.cache.heads, (h) => packedHeadLength(h, dim));
  if (causal) {
    lengths.forEach((n, g) => {
      if (n < q.length) {
        throw new SparselandError(
          'E_SHAPE',
          `decodePacked: a causal call's queries are the newest ${q.length} slots, but kv head ${g} holds only ${n}`,
        );
      }
    });
  }
  return { heads: q.heads, kvHeads, qLength: q.length, dim, lengths, causal, scale: resolveScale(opts.scale, dim) };
}

/** Last slot query row i may read in a head of `length` slots (the causal rule of packed decode). */
export function packedLastVisible(call: PackedDecodeCall, length: number, i: number): number {
  return call.causal ? length - call.qLength + i : length - 1;
}

/**
 * The float64 oracle of packed decode: every block is dequantised to float32 exactly as `unpackKvBlock` defines,
 * then attention runs in float64. A backend's packed decode must match it to float32 tolerance.
 */
export function referenceDecodePacked(input: PackedDecodeInput, options: PackedDecodeOptions = {}): AttendResult {
  const call = resolvePackedDecodeCall(input, options);
  const { heads, kvHeads, qLength, dim, scale } = call;
  const rows = input.cache.heads.map((h) => unpackKvHead(h, dim));
  const out = createHeadTensor(heads, qLength, dim);
  const lse = new Float32Array(heads * qLength);
  const acc = new Float64Array(dim);
  const q = input.q.data;
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    const { keys, values, length } = rows[g] as { keys: Float32Array; values: Float32Array; length: number };
    const logits = new Float64Array(length);
    for (let i = 0; i < qLength; i++) {
      const last = Math.min(length - 1, packedLastVisible(call, length, i));
      const qBase = (h * qLength + i) * dim;
      let max = -Infinity;
      for (let j = 0; j <= last; j++) {
        let s = 0;
        for (let c = 0; c < dim; c++) s += (q[qBase + c] as number) * (keys[j * dim + c] as number);
        s *= scale;
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
        const p = Math.exp((logits[j] as number) - max);
        sum += p;
        for (let c = 0; c < dim; c++) acc[c] = (acc[c] as number) + p * (values[j * dim + c] as number);
      }
      for (let c = 0; c < dim; c++) out.data[qBase + c] = (acc[c] as number) / sum;
      lse[h * qLength + i] = max + Math.log(sum);
    }
  }
  return { output: out, lse };
}
