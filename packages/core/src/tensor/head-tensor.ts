import { describeValue, expectInteger, SparselandError } from '../errors.js';
import { createRng, expectSeed } from '../rng.js';
import { expectTensorSize } from './shape.js';

/**
 * Per-head activations, row-major `[head][position][dim]`. Q has `Hq` heads; K and V have `Hkv` heads with
 * `Hq % Hkv === 0`. No batch axis: a batch is an array of inputs.
 */
export interface HeadTensor {
  readonly data: Float32Array;
  readonly heads: number;
  readonly length: number;
  readonly dim: number;
}

/** A HeadTensor over `data` (zero-filled when omitted). Checks that `data` holds exactly heads·length·dim values. */
export function createHeadTensor(heads: number, length: number, dim: number, data?: Float32Array): HeadTensor {
  expectInteger(heads, 'heads', 1);
  expectInteger(length, 'length', 0);
  expectInteger(dim, 'dim', 1);
  expectTensorSize(heads, length, dim, 'HeadTensor');
  const size = heads * length * dim;
  if (data === undefined) return { data: new Float32Array(size), heads, length, dim };
  if (!(data instanceof Float32Array)) {
    throw new SparselandError('E_SHAPE', `HeadTensor data must be a Float32Array, got ${describeValue(data)}`);
  }
  if (data.length !== size) {
    throw new SparselandError(
      'E_SHAPE',
      `HeadTensor data must hold heads·length·dim = ${heads}·${length}·${dim} = ${size} values, got ${data.length}`,
      { heads, length, dim, got: data.length },
    );
  }
  return { data, heads, length, dim };
}

/** A HeadTensor from nested arrays `[head][position][dim]`; every row must have the same dim. */
export function headTensorFromArrays(values: readonly (readonly (readonly number[])[])[]): HeadTensor {
  if (!Array.isArray(values) || values.length === 0) {
    throw new SparselandError('E_SHAPE', `expected a non-empty array [head][position][dim], got ${describeValue(values)}`);
  }
  const heads = values.length;
  const length = values[0]?.length ?? 0;
  const dim = values[0]?.[0]?.length ?? 0;
  if (dim === 0) throw new SparselandError('E_SHAPE', 'expected rows with at least one value (dim >= 1)');
  const out = new Float32Array(heads * length * dim);
  values.forEach((head, h) => {
    if (!Array.isArray(head) || head.length !== length) {
      throw new SparselandError('E_SHAPE', `head ${h} must have ${length} positions, got ${describeValue(head)}`);
    }
    head.forEach((row, i) => {
      if (!Array.isArray(row) || row.length !== dim) {
        throw new SparselandError('E_SHAPE', `row [${h}][${i}] must have ${dim} values, got ${describeValue(row)}`);
      }
      out.set(row, (h * length + i) * dim);
    });
  });
  return { data: out, heads, length, dim };
}

/** Seeded standard-normal values times `scale`: the same seed gives the same tensor on every machine. */
export function randomHeadTensor(shape: { heads: number; length: number; dim: number; seed: number; scale?: number }): HeadTensor {
  const t = createHeadTensor(shape.heads, shape.length, shape.dim);
  const rng = createRng(expectSeed(shape.seed));
  const scale = shape.scale ?? 1;
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * scale;
  return t;
}

/** Heads [start, end) of `t`, sharing no memory with it. */
export function sliceHeads(t: HeadTensor, start: number, end = start + 1): HeadTensor {
  expectInteger(start, 'start head', 0, t.heads - 1);
  expectInteger(end, 'end head', start + 1, t.heads);
  const stride = t.length * t.dim;
  return { data: t.data.slice(start * stride, end * stride), heads: end - start, length: t.length, dim: t.dim };
}

/** Positions [start, end) of every head of `t`, as a new tensor. */
export function slicePositions(t: HeadTensor, start: number, end: number): HeadTensor {
  expectInteger(start, 'start position', 0, t.length);
  expectInteger(end, 'end position', start, t.length);
  const len = end - start;
  const out = new Float32Array(t.heads * len * t.dim);
  for (let h = 0; h < t.heads; h++) {
    const from = (h * t.length + start) * t.dim;
    out.set(t.data.subarray(from, from + len * t.dim), h * len * t.dim);
  }
  return { data: out, heads: t.heads, length: len, dim: t.dim };
}

/** Concatenates tensors with the same heads and dim along positions. */
export function concatPositions(parts: readonly HeadTensor[]): HeadTensor {
  const first = parts[0];
  if (first === undefined) throw new SparselandError('E_SHAPE', 'concatPositions needs at least one tensor');
  let length = 0;
  for (const p of parts) {
    if (p.heads !== first.heads || p.dim !== first.dim) {
      throw new SparselandError(
        'E_SHAPE',
        `concatPositions: every part must have ${first.heads} heads of dim ${first.dim}, got ${p.heads}×${p.dim}`,
      );
    }
    length += p.length;
  }
  const out = new Float32Array(first.heads * length * first.dim);
  for (let h = 0; h < first.heads; h++) {
    let at = h * length * first.dim;
    for (const p of parts) {
      const row = p.data.subarray(h * p.length * p.dim, (h + 1) * p.length * p.dim);
      out.set(row, at);
      at += row.length;
    }
  }
  return { data: out, heads: first.heads, length, dim: first.dim };
}

/** The kv head that query head `h` reads under grouped-query attention: `floor(h / (Hq / Hkv))`. */
export function kvHeadOf(h: number, qHeads: number, kvHeads: number): number {
  return Math.floor(h / (qHeads / kvHeads));
}
