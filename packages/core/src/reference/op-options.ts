import type {
  IndexRange,
  KeyGroups,
  LastQueriesOptions,
  PooledScoresOptions,
  PoolKind,
  QuantizedScoresOptions,
  ScoreInput,
  ScoresOptions,
} from '../backend.js';
import { describeValue, expectInteger, SparselandError } from '../errors.js';
import { type AttentionShape, expectHeadTensor, sharesMemory } from '../tensor/shape.js';
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

/** Largest `reduce.topK` of a `scores` call (backends keep up to 2k candidates per row while they scan). */
export const MAX_SCORES_TOP_K = 65_536;
/** Most floats a `scores` call may return as scores (512 MiB): bigger products are cut into several calls. */
export const MAX_SCORES_OUTPUT = 1 << 27;

/** The keys of a resolved `scores` call. */
export type ScoresKeys =
  | { readonly kind: 'range'; readonly start: number; readonly count: number }
  | { readonly kind: 'list'; readonly list: Int32Array }
  | { readonly kind: 'groups'; readonly groups: Int32Array; readonly offsets: Int32Array; readonly indices: Int32Array };

/** A validated `scores` call. Per requested row r: its (pooled) query row, its position and its visible key bounds. */
export interface ScoresCall {
  readonly shape: AttentionShape;
  readonly scale: number;
  readonly causal: boolean;
  /** 0 = no window. */
  readonly window: number;
  readonly queryBlock: number;
  /** (Pooled) query rows of the call: ceil(qLength / queryBlock). */
  readonly queryRows: number;
  /** The requested (pooled) row indices, strictly increasing. */
  readonly rows: Int32Array;
  /** Absolute position of each requested row (a pooled row sits at its block's last row). */
  readonly positions: Int32Array;
  /** Inclusive bounds of the keys each requested row may see (causality and window; keyHi < keyLo: none). */
  readonly keyLo: Int32Array;
  readonly keyHi: Int32Array;
  readonly keys: ScoresKeys;
  /** Key slots per row (0 with groups). */
  readonly keyCount: number;
  readonly output: boolean;
  readonly max: boolean;
  readonly min: boolean;
  /** Effective k (clipped to the key slots), 0 = none. */
  readonly topK: number;
  readonly moments: boolean;
  readonly atLeast: Float64Array | undefined;
  /** 32-bit words per row of the atLeast bits. */
  readonly atLeastWords: number;
  readonly columnMax: boolean;
  /** Where the column maxima go: options.into.columnMax viewed to keys.indices.length, else undefined (a new array). */
  readonly columnMaxInto: Float32Array | undefined;
}

function isRange(x: unknown): x is IndexRange {
  return typeof x === 'object' && x !== null && !ArrayBuffer.isView(x) && 'start' in x && 'count' in x;
}

function expectIncreasing(list: unknown, what: string, end: number, from = 0, to?: number): Int32Array {
  if (!(list instanceof Int32Array)) throw new SparselandError('E_PARAMS', `${what} must be an Int32Array, got ${describeValue(list)}`);
  let prev = -1;
  for (let i = from; i < (to ?? list.length); i++) {
    const x = list[i] as number;
    if (x <= prev || x >= end) {
      throw new SparselandError(
        'E_PARAMS',
        `${what} must be strictly increasing indices in [0, ${end - 1}], got ${x} at position ${i}${x <= prev ? ` after ${prev}` : ''}`,
      );
    }
    prev = x;
  }
  return list;
}

function resolveRange(range: IndexRange, what: string, end: number): { start: number; count: number } {
  const start = expectInteger(range.start, `${what}.start`, 0, end - 1);
  const count = expectInteger(range.count, `${what}.count`, 1, end - start);
  return { start, count };
}

function resolveKeyGroups(keys: KeyGroups, rows: number, heads: number, kvLength: number): ScoresKeys {
  const { groups, offsets, indices } = keys;
  if (!(groups instanceof Int32Array) || groups.length < 2 || groups[0] !== 0 || groups[groups.length - 1] !== rows) {
    throw new SparselandError(
      'E_PARAMS',
      `keys.groups must be an Int32Array from 0 to the ${rows} requested rows, got ${describeValue(groups)}`,
    );
  }
  for (let t = 1; t < groups.length; t++) {
    if ((groups[t] as number) < (groups[t - 1] as number)) {
      throw new SparselandError('E_PARAMS', `keys.groups must be nondecreasing, got ${groups[t]} after ${groups[t - 1]}`);
    }
  }
  const count = heads * (groups.length - 1);
  if (!(offsets instanceof Int32Array) || offsets.length !== count + 1 || offsets[0] !== 0) {
    throw new SparselandError(
      'E_PARAMS',
      `keys.offsets must be an Int32Array of heads · groups + 1 = ${count + 1} offsets starting at 0, got ${describeValue(offsets)}`,
    );
  }
  if (!(indices instanceof Int32Array) || offsets[count] !== indices.length) {
    throw new SparselandError(
      'E_PARAMS',
      `keys.offsets must end at keys.indices.length, got ${offsets[count]} and ${describeValue(indices)}`,
    );
  }
  for (let g = 0; g < count; g++) {
    const a = offsets[g] as number;
    const b = offsets[g + 1] as number;
    if (b < a) throw new SparselandError('E_PARAMS', `keys.offsets must be nondecreasing, got ${b} after ${a}`);
    expectIncreasing(indices, `keys.indices of group ${g}`, kvLength, a, b);
  }
  return { kind: 'groups', groups, offsets, indices };
}

/**
 * Validates a `scores` call once for every backend: shapes, rows, keys, window, pooling and reductions, with the
 * limits MAX_SCORES_TOP_K (top-k) and MAX_SCORES_OUTPUT (returned scores, E_BUDGET).
 */
export function resolveScoresCall(input: ScoreInput, options: ScoresOptions = {}): ScoresCall {
  const shape = resolveScoreShape(input);
  const { heads, qLength, kvLength, qOffset } = shape;
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale)) throw new SparselandError('E_PARAMS', `scores scale must be finite, got ${describeValue(scale)}`);
  const causal = options.causal ?? true;
  const window = options.window === undefined ? 0 : expectInteger(options.window, 'window', 1);
  const queryBlock = options.queryBlock === undefined ? 1 : expectInteger(options.queryBlock, 'queryBlock', 1);
  const queryRows = Math.ceil(qLength / queryBlock);
  let rows: Int32Array;
  if (options.rows === undefined) rows = Int32Array.from({ length: queryRows }, (_, r) => r);
  else if (isRange(options.rows)) {
    const { start, count } = resolveRange(options.rows, 'rows', queryRows);
    rows = Int32Array.from({ length: count }, (_, r) => start + r);
  } else rows = expectIncreasing(options.rows, 'rows', queryRows);
  const positions = new Int32Array(rows.length);
  const keyLo = new Int32Array(rows.length);
  const keyHi = new Int32Array(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const pos = qOffset + Math.min(qLength, ((rows[r] as number) + 1) * queryBlock) - 1;
    positions[r] = pos;
    keyLo[r] = window > 0 ? Math.max(0, pos - window + 1) : 0;
    keyHi[r] = causal ? Math.min(kvLength - 1, pos) : kvLength - 1;
  }
  let keys: ScoresKeys;
  const given = options.keys;
  if (given === undefined) keys = { kind: 'range', start: 0, count: kvLength };
  else if (given instanceof Int32Array) keys = { kind: 'list', list: expectIncreasing(given, 'keys', kvLength) };
  else if (isRange(given)) keys = { kind: 'range', ...resolveRange(given, 'keys', kvLength) };
  else if (typeof given === 'object' && given !== null && 'indices' in given) keys = resolveKeyGroups(given, rows.length, heads, kvLength);
  else
    throw new SparselandError('E_PARAMS', `keys must be a range {start, count}, an Int32Array or key groups, got ${describeValue(given)}`);
  const keyCount = keys.kind === 'range' ? keys.count : keys.kind === 'list' ? keys.list.length : 0;
  const reduce = options.reduce ?? {};
  if (typeof reduce !== 'object' || reduce === null)
    throw new SparselandError('E_PARAMS', `reduce must be an object, got ${describeValue(reduce)}`);
  const topK = reduce.topK === undefined ? 0 : Math.min(expectInteger(reduce.topK, 'reduce.topK', 1, MAX_SCORES_TOP_K), keyCount);
  const atLeast = reduce.atLeast;
  if (atLeast !== undefined && (!(atLeast instanceof Float64Array) || atLeast.length !== heads * rows.length)) {
    throw new SparselandError(
      'E_PARAMS',
      `reduce.atLeast must be a Float64Array of one threshold per query head and requested row (${heads * rows.length}), got ${describeValue(atLeast)}`,
    );
  }
  const max = reduce.max === true;
  const min = reduce.min === true;
  const moments = reduce.moments === true;
  const columnMax = reduce.columnMax === true;
  const rowReductions = max || min || moments || reduce.topK !== undefined || atLeast !== undefined;
  if (keys.kind === 'groups') {
    if (rowReductions || options.output === true || !columnMax) {
      throw new SparselandError('E_PARAMS', 'scores with key groups computes reduce.columnMax only (no output, no row reductions)');
    }
  } else if (columnMax) {
    throw new SparselandError('E_PARAMS', 'reduce.columnMax needs keys given as key groups {groups, offsets, indices}');
  }
  const columnMaxInto = resolveInto(options.into, columnMax, keys, input);
  const output = options.output ?? !(rowReductions || columnMax);
  if (output && heads * rows.length * keyCount > MAX_SCORES_OUTPUT) {
    throw new SparselandError(
      'E_BUDGET',
      `scores would return ${heads} × ${rows.length} × ${keyCount} scores, more than ${MAX_SCORES_OUTPUT}: request fewer rows or keys per call`,
    );
  }
  return {
    shape,
    scale,
    causal,
    window,
    queryBlock,
    queryRows,
    rows,
    positions,
    keyLo,
    keyHi,
    keys,
    keyCount,
    output,
    max,
    min,
    topK,
    moments,
    atLeast,
    atLeastWords: Math.ceil(keyCount / 32),
    columnMax,
    columnMaxInto,
  };
}

/** Checks options.into: only columnMax, with reduce.columnMax, long enough, aliasing neither q nor k. */
function resolveInto(into: ScoresOptions['into'], columnMax: boolean, keys: ScoresKeys, input: ScoreInput): Float32Array | undefined {
  if (into === undefined) return undefined;
  if (typeof into !== 'object' || into === null)
    throw new SparselandError('E_PARAMS', `into must be an object, got ${describeValue(into)}`);
  const target = into.columnMax;
  if (target === undefined) return undefined;
  const needed = keys.kind === 'groups' ? keys.indices.length : 0;
  if (!columnMax) throw new SparselandError('E_PARAMS', 'into.columnMax needs reduce.columnMax');
  if (!(target instanceof Float32Array) || target.length < needed) {
    throw new SparselandError(
      'E_PARAMS',
      `into.columnMax must be a Float32Array of at least keys.indices.length = ${needed} entries, got ${describeValue(target)}`,
    );
  }
  for (const [name, x] of [
    ['q', input.q],
    ['k', input.k],
  ] as const) {
    if (sharesMemory(target, x.data)) {
      throw new SparselandError('E_PARAMS', `into.columnMax must not share memory with ${name}: pass a separate Float32Array`);
    }
  }
  return target.length === needed ? target : target.subarray(0, needed);
}

/** The array a backend writes a call's column maxima into: the caller's (options.into) or a new one. */
export function columnMaxArray(call: ScoresCall): Float32Array {
  const n = call.keys.kind === 'groups' ? call.keys.indices.length : 0;
  return call.columnMaxInto ?? new Float32Array(n);
}

/** Key index of slot j of a range or list call. */
export function scoresKeyAt(keys: ScoresKeys, j: number): number {
  return keys.kind === 'range' ? keys.start + j : ((keys as { list: Int32Array }).list[j] as number);
}
