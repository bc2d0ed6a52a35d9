import type { AttendResult, DecodeOptions, KvStore, KvStoreDecodeOptions, KvStoreShape } from '../backend.js';
import { describeValue, expectInteger, SparselandError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { expectSelectionFits, TokenSelection } from '../masks/token-selection.js';
import type { HeadTensor } from '../tensor/head-tensor.js';
import { type AttentionInput, expectHeadTensor } from '../tensor/shape.js';
import { resolveScale } from './reference-attention.js';

// The KV store of every backend: one validation of its shape, appends and decode calls, and a store kept in
// JavaScript memory that decodes through any decode function (the reference backend's, and the fallback of backends
// without a resident one).

/** Throws unless kvHeads and dim are integers within LIMITS. */
export function expectKvStoreShape(shape: unknown): KvStoreShape {
  if (typeof shape !== 'object' || shape === null) {
    throw new SparselandError('E_PARAMS', `createKvStore: shape must be { kvHeads, dim }, got ${describeValue(shape)}`);
  }
  const s = shape as Partial<KvStoreShape>;
  return {
    kvHeads: expectInteger(s.kvHeads, 'createKvStore: kvHeads', 1, LIMITS.heads),
    dim: expectInteger(s.dim, 'createKvStore: dim', 1, LIMITS.dim),
  };
}

/** What a store holds, for the resolvers: its shape and each head's slot count. */
export interface KvStoreState extends KvStoreShape {
  length(g: number): number;
}

/** Validates `append(k, v)`: both [kvHeads, count, dim], no head past LIMITS.length slots. Returns count. */
export function resolveKvStoreAppend(store: KvStoreState, k: unknown, v: unknown): number {
  const kt = expectHeadTensor(k, 'append: k');
  const vt = expectHeadTensor(v, 'append: v');
  for (const [t, name] of [
    [kt, 'k'],
    [vt, 'v'],
  ] as const) {
    if (t.heads !== store.kvHeads || t.dim !== store.dim || t.length !== kt.length) {
      throw new SparselandError(
        'E_SHAPE',
        `append: ${name} must be [kvHeads ${store.kvHeads}, count, dim ${store.dim}] with the same count for k and v, got [${t.heads}, ${t.length}, ${t.dim}]`,
      );
    }
  }
  let longest = 0;
  for (let g = 0; g < store.kvHeads; g++) longest = Math.max(longest, store.length(g));
  if (longest + kt.length > LIMITS.length) {
    throw new SparselandError(
      'E_SHAPE',
      `append: a kv head would hold ${longest + kt.length} slots, more than LIMITS.length (${LIMITS.length})`,
    );
  }
  return kt.length;
}

/** Validates `setHead(g, keys, values)`: returns the slot count n (keys and values hold n·dim floats each). */
export function resolveKvStoreSetHead(store: KvStoreState, g: unknown, keys: unknown, values: unknown): number {
  expectInteger(g, 'setHead: kv head', 0, store.kvHeads - 1);
  if (
    !(keys instanceof Float32Array) ||
    !(values instanceof Float32Array) ||
    keys.length !== values.length ||
    keys.length % store.dim !== 0
  ) {
    throw new SparselandError(
      'E_SHAPE',
      `setHead: keys and values must be Float32Arrays of the same length, a multiple of dim ${store.dim}, got ${describeValue(keys)} and ${describeValue(values)}`,
    );
  }
  const n = keys.length / store.dim;
  if (n > LIMITS.length) throw new SparselandError('E_SHAPE', `setHead: ${n} slots is more than LIMITS.length (${LIMITS.length})`);
  return n;
}

/** A validated store decode: what the reference decode of the zero-padded store is called with. */
export interface KvStoreDecodeCall {
  readonly q: HeadTensor;
  /** The longest head's slot count: the padded kvLength. */
  readonly width: number;
  readonly qOffset: number;
  /** The caller's selection, or each head's own slots when heads hold different counts; undefined = every slot. */
  readonly selection: TokenSelection | undefined;
  /** True when `selection` is the caller's. */
  readonly explicit: boolean;
  readonly causal: boolean;
  readonly scale: number;
  readonly scoreMod: DecodeOptions['scoreMod'];
}

export function resolveKvStoreDecode(store: KvStoreState, q: unknown, options: KvStoreDecodeOptions = {}): KvStoreDecodeCall {
  const qt = expectHeadTensor(q, 'decode: q');
  if (qt.dim !== store.dim || qt.heads % store.kvHeads !== 0 || qt.length < 1) {
    throw new SparselandError(
      'E_SHAPE',
      `decode: q must be [Hq, qLength >= 1, dim ${store.dim}] with Hq a multiple of the store's ${store.kvHeads} kv heads, got [${qt.heads}, ${qt.length}, ${qt.dim}]`,
    );
  }
  if (typeof options !== 'object' || options === null) {
    throw new SparselandError('E_PARAMS', `decode: options must be an object, got ${describeValue(options)}`);
  }
  let width = 0;
  let ragged = false;
  for (let g = 0; g < store.kvHeads; g++) {
    const n = store.length(g);
    if (g > 0 && n !== width) ragged = true;
    width = Math.max(width, n);
  }
  if (width === 0) throw new SparselandError('E_SHAPE', 'decode: the store holds no keys yet; append some first');
  const qOffset = options.qOffset ?? Math.max(0, width - qt.length);
  if (!Number.isInteger(qOffset) || qOffset < 0 || qOffset + qt.length > width) {
    throw new SparselandError(
      'E_SHAPE',
      `decode: qOffset must be an integer >= 0 with qOffset + qLength <= the longest head's ${width} slots, got ${describeValue(qOffset)} + ${qt.length}`,
    );
  }
  if (options.scoreMod !== undefined && typeof options.scoreMod !== 'function') {
    throw new SparselandError(
      'E_PARAMS',
      `decode: scoreMod must be a function (score, h, qPos, kPos) => number, got ${describeValue(options.scoreMod)}`,
    );
  }
  let selection = options.selection;
  const explicit = selection !== undefined;
  if (selection !== undefined) {
    if (!(selection instanceof TokenSelection)) {
      throw new SparselandError('E_SHAPE', 'decode: selection must be a TokenSelection (TokenSelection.fromLists / TokenSelection.all)');
    }
    expectSelectionFits(selection, { kvHeads: store.kvHeads, kvLength: width });
    for (let g = 0; g < store.kvHeads; g++) {
      const slots = selection.slotsOf(g);
      const last = slots.length > 0 ? (slots[slots.length - 1] as number) : -1;
      if (last >= store.length(g)) {
        throw new SparselandError(
          'E_SHAPE',
          `decode: the selection reads slot ${last} of kv head ${g}, which holds ${store.length(g)} slots`,
        );
      }
    }
  } else if (ragged) {
    selection = TokenSelection.fromLists(
      Array.from({ length: store.kvHeads }, (_, g) => Array.from({ length: store.length(g) }, (_, i) => i)),
      width,
    );
  }
  return {
    q: qt,
    width,
    qOffset,
    selection,
    explicit,
    causal: options.causal ?? true,
    scale: resolveScale(options.scale, store.dim),
    scoreMod: options.scoreMod,
  };
}

/** The decode input of a store: its slots gathered into [kvHeads, width, dim] tensors, zero-padded. */
export function gatherKvStore(
  store: KvStoreShape,
  width: number,
  head: (g: number) => { keys: Float32Array; values: Float32Array },
): { k: HeadTensor; v: HeadTensor } {
  const { kvHeads, dim } = store;
  const k = new Float32Array(kvHeads * width * dim);
  const v = new Float32Array(kvHeads * width * dim);
  for (let g = 0; g < kvHeads; g++) {
    const h = head(g);
    k.set(h.keys, g * width * dim);
    v.set(h.values, g * width * dim);
  }
  return { k: { data: k, heads: kvHeads, length: width, dim }, v: { data: v, heads: kvHeads, length: width, dim } };
}

/**
 * A KvStore in JavaScript memory (per-head arrays growing by doubling) whose `decode` gathers the slots and calls
 * `decode` (a backend's own): the reference backend's store, and the fallback of backends that cannot keep keys
 * resident (each decode then copies the cache once). `live` throws when the owning backend was disposed.
 */
export function createHostKvStore(
  shape: KvStoreShape,
  decode: (input: AttentionInput, options: DecodeOptions) => Promise<AttendResult>,
  live: () => void = () => {},
): KvStore {
  const { kvHeads, dim } = expectKvStoreShape(shape);
  const keys: Float32Array[] = Array.from({ length: kvHeads }, () => new Float32Array(0));
  const values: Float32Array[] = Array.from({ length: kvHeads }, () => new Float32Array(0));
  const lengths = new Int32Array(kvHeads);
  let disposed = false;
  const check = (): void => {
    live();
    if (disposed) throw new SparselandError('E_PARAMS', 'this KV store was disposed; create a new one');
  };
  const reserve = (g: number, slots: number): void => {
    const have = (keys[g] as Float32Array).length / dim;
    if (slots <= have) return;
    const capacity = Math.max(slots, 2 * have, 64);
    const k = new Float32Array(capacity * dim);
    const v = new Float32Array(capacity * dim);
    k.set((keys[g] as Float32Array).subarray(0, (lengths[g] as number) * dim));
    v.set((values[g] as Float32Array).subarray(0, (lengths[g] as number) * dim));
    keys[g] = k;
    values[g] = v;
  };
  const store: KvStore = {
    kvHeads,
    dim,
    length(g) {
      expectInteger(g, 'kv head', 0, kvHeads - 1);
      return lengths[g] as number;
    },
    async append(k, v) {
      check();
      const count = resolveKvStoreAppend(store, k, v);
      for (let g = 0; g < kvHeads; g++) {
        const n = lengths[g] as number;
        reserve(g, n + count);
        const from = g * count * dim;
        (keys[g] as Float32Array).set(k.data.subarray(from, from + count * dim), n * dim);
        (values[g] as Float32Array).set(v.data.subarray(from, from + count * dim), n * dim);
        lengths[g] = n + count;
      }
    },
    async setHead(g, k, v) {
      check();
      const n = resolveKvStoreSetHead(store, g, k, v);
      lengths[g] = 0;
      reserve(g, n);
      (keys[g] as Float32Array).set(k);
      (values[g] as Float32Array).set(v);
      lengths[g] = n;
    },
    async decode(q, options = {}) {
      check();
      const call = resolveKvStoreDecode(store, q, options);
      const { k, v } = gatherKvStore({ kvHeads, dim }, call.width, (g) => ({
        keys: (keys[g] as Float32Array).subarray(0, (lengths[g] as number) * dim),
        values: (values[g] as Float32Array).subarray(0, (lengths[g] as number) * dim),
      }));
      return decode(
        { q: call.q, k, v, qOffset: call.qOffset },
        { selection: call.selection, causal: call.causal, scale: call.scale, scoreMod: call.scoreMod },
      );
    },
    dispose() {
      disposed = true;
      keys.fill(new Float32Array(0));
      values.fill(new Float32Array(0));
      lengths.fill(0);
    },
  };
  return Object.freeze(store);
}
