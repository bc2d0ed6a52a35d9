import type { LastQueriesOptions, PooledScoresOptions, PoolKind, QuantizedScoresOptions, ScoreInput } from '../backend.js';
import { describeValue, expectInteger, SparselandError } from '../errors.js';
import { type AttentionShape, expectHeadTensor } from '../tensor/shape.js';
import { resolveScale } from './reference-attention.js';

// Every backend validates the estimator ops' options the same way: these resolvers are the one place that does it,
// so the reference and every backend accept and reject exactly the same calls with the same messages.

/** Shape of a Q/K-only call (V is not needed by the estimator ops). */
export function resolveScoreShape(input: ScoreInput): AttentionShape {
  const q = expectHeadTensor(input.q, 'q');
  const k = expectHeadTensor(input.k, 'k');
  if (q.dim !== k.dim) throw new SparselandError('E_SHAPE', `q and k must share the head dim, got ${q.dim} and ${k.dim}`);
  if (q.heads % k.heads !== 0) {
    throw new SparselandError('E_SHAPE', `query heads must be a multiple of kv heads, got Hq = ${q.heads} and Hkv = ${k.heads}`);
  }
  if (q.length < 1 || k.length < 1) throw new SparselandError('E_SHAPE', 'q and k need at least one position');
  const qOffset = input.qOffset ?? Math.max(0, k.length - q.length);
  expectInteger(qOffset, 'qOffset', 0);
  return { heads: q.heads, kvHeads: k.heads, qLength: q.length, kvLength: k.length, dim: q.dim, qOffset };
}

const POOLS: readonly PoolKind[] = ['mean', 'max', 'min'];

function expectPool(kind: unknown, what: string): PoolKind {
  if (kind === undefined) return 'mean';
  if (!POOLS.includes(kind as PoolKind)) {
    throw new SparselandError('E_PARAMS', `${what} must be one of ${POOLS.join(', ')}, got ${describeValue(kind)}`);
  }
  return kind as PoolKind;
}

/** A validated `pooledScores` call. */
export interface PooledScoresCall {
  readonly shape: AttentionShape;
  readonly blockQ: number;
  readonly blockK: number;
  readonly qBlocks: number;
  readonly kBlocks: number;
  readonly qPool: PoolKind;
  readonly kPool: PoolKind;
  /** Default 1 (raw dot products). */
  readonly scale: number;
  readonly causal: boolean;
}

export function resolvePooledScoresCall(input: ScoreInput, options: PooledScoresOptions): PooledScoresCall {
  const shape = resolveScoreShape(input);
  const blockQ = expectInteger(options?.blockQ, 'blockQ', 1);
  const blockK = expectInteger(options?.blockK, 'blockK', 1);
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new SparselandError('E_PARAMS', `pooledScores scale must be finite, got ${describeValue(scale)}`);
  return {
    shape,
    blockQ,
    blockK,
    qBlocks: Math.ceil(shape.qLength / blockQ),
    kBlocks: Math.ceil(shape.kvLength / blockK),
    qPool: expectPool(options.qPool, 'qPool'),
    kPool: expectPool(options.kPool, 'kPool'),
    scale,
    causal: options.causal ?? true,
  };
}

/** A validated `lastQueriesAttention` call: rows [rowStart, rowStart + count) of the queries. */
export interface LastQueriesCall {
  readonly shape: AttentionShape;
  readonly count: number;
  readonly rowStart: number;
  readonly scale: number;
  readonly causal: boolean;
}

export function resolveLastQueriesCall(input: ScoreInput, options: LastQueriesOptions): LastQueriesCall {
  const shape = resolveScoreShape(input);
  const count = Math.min(expectInteger(options?.count, 'count', 1), shape.qLength);
  return { shape, count, rowStart: shape.qLength - count, scale: resolveScale(options.scale, shape.dim), causal: options.causal ?? true };
}

/** A validated `quantizedScores` call. With `pool`, rows are all query rows and `rows` is ignored. */
export interface QuantizedScoresCall {
  readonly shape: AttentionShape;
  readonly bits: 8 | 4;
  /** Largest quantised magnitude: 2^(bits-1) − 1. */
  readonly qmax: number;
  readonly scale: number;
  readonly causal: boolean;
  readonly smoothK: boolean;
  readonly rowStart: number;
  readonly rows: number;
  readonly pool: { readonly blockQ: number; readonly blockK: number; readonly qBlocks: number; readonly kBlocks: number } | undefined;
  /** Per-row logit offsets ([heads][rows], or [heads][qLength] with pool), or undefined. */
  readonly rowBias: Float32Array | undefined;
  /** Query rows and keys per quantisation scale (1: per token). */
  readonly qGroup: number;
  readonly kGroup: number;
}

/** Largest quantisation group (rows or keys sharing one scale). */
export const MAX_QUANT_GROUP = 4096;

export function resolveQuantizedScoresCall(input: ScoreInput, options: QuantizedScoresOptions): QuantizedScoresCall {
  const shape = resolveScoreShape(input);
  if (options?.bits !== 8 && options?.bits !== 4) {
    throw new SparselandError('E_PARAMS', `quantizedScores bits must be 8 or 4, got ${describeValue(options?.bits)}`);
  }
  const { qLength, kvLength } = shape;
  let pool: QuantizedScoresCall['pool'];
  if (options.pool) {
    const blockQ = expectInteger(options.pool.blockQ, 'pool.blockQ', 1);
    const blockK = expectInteger(options.pool.blockK, 'pool.blockK', 1);
    pool = { blockQ, blockK, qBlocks: Math.ceil(qLength / blockQ), kBlocks: Math.ceil(kvLength / blockK) };
  }
  const rowStart = pool ? 0 : expectInteger(options.rows?.start ?? 0, 'rows.start', 0, qLength - 1);
  const rows = pool ? qLength : expectInteger(options.rows?.count ?? qLength - rowStart, 'rows.count', 1, qLength - rowStart);
  let rowBias: Float32Array | undefined;
  if (options.rowBias !== undefined) {
    const want = shape.heads * rows;
    if (!(options.rowBias instanceof Float32Array) || options.rowBias.length !== want) {
      throw new SparselandError(
        'E_PARAMS',
        `quantizedScores rowBias must be a Float32Array of heads × rows = ${want} values, got ${describeValue(options.rowBias)}`,
      );
    }
    for (let i = 0; i < want; i++) {
      if (!Number.isFinite(options.rowBias[i]))
        throw new SparselandError('E_NONFINITE', `quantizedScores rowBias[${i}] must be finite, got ${options.rowBias[i]}`);
    }
    rowBias = options.rowBias;
  }
  const qGroup = expectInteger(options.groups?.q ?? 1, 'groups.q', 1, MAX_QUANT_GROUP);
  const kGroup = expectInteger(options.groups?.k ?? 1, 'groups.k', 1, MAX_QUANT_GROUP);
  return {
    shape,
    rowBias,
    qGroup,
    kGroup,
    bits: options.bits,
    qmax: 2 ** (options.bits - 1) - 1,
    scale: resolveScale(options.scale, shape.dim),
    causal: options.causal ?? true,
    smoothK: options.smoothK ?? true,
    rowStart,
    rows,
    pool,
  };
}
