import { type AttendResult, createHeadTensor, type HeadTensor, type KvStore, type KvStoreShape, SparselandError } from '@sparseland/core';
import {
  expectInteger,
  expectKvStoreShape,
  type KvStoreDecodeCall,
  resolveKvStoreAppend,
  resolveKvStoreDecode,
  resolveKvStoreSetHead,
} from '@sparseland/core/kit';
import type { Executor } from '../executor.js';
import { planDecode } from '../plan/decode-plan.js';
import { paddedDim, TILE } from '../scratch-layout.js';
import { runAttendJob } from './attend-job.js';
import { decode } from './decode.js';

/** One kv head's storage in the arena: packed K (64-key chunks, [dp][64]) and V rows of dp floats. */
interface HeadStore {
  k: number;
  v: number;
  /** Slots the regions hold (a multiple of 64). */
  capacity: number;
  length: number;
}

interface Held {
  heads: HeadStore[];
  dp: number;
  /** dispose() was called: every method refuses from then on. */
  disposed: boolean;
  /** The regions went back to the arena. */
  freed: boolean;
}

/**
 * Backend.createKvStore: each kv head's keys stay packed in the arena in the layout the attention tiles read, so a
 * decode step writes only the new token's key and value (one column of a chunk, one row) and its plan reads the
 * resident chunks: no copy or re-packing of the cache per step. Regions grow by doubling.
 */
export function createKvStoreOps(exec: Executor, live: () => void) {
  const collected = new FinalizationRegistry<Held>((held) => {
    void exec.exclusive(async () => release(held)).catch(() => undefined);
  });
  const release = (held: Held): void => {
    if (held.freed || exec.isDisposed) return;
    held.freed = true;
    for (const h of held.heads) if (h.capacity > 0) freeHead(exec, h, held.dp);
  };

  async function createKvStore(shape: KvStoreShape): Promise<KvStore> {
    live();
    const { kvHeads, dim } = expectKvStoreShape(shape);
    const dp = paddedDim(dim);
    const held: Held = {
      heads: Array.from({ length: kvHeads }, () => ({ k: 0, v: 0, capacity: 0, length: 0 })),
      dp,
      disposed: false,
      freed: false,
    };
    const check = (): void => {
      live();
      if (held.disposed) throw new SparselandError('E_PARAMS', 'this KV store was disposed; create a new one');
    };
    const head = (g: number): HeadStore => held.heads[g] as HeadStore;
    const store: KvStore = {
      kvHeads,
      dim,
      length(g) {
        expectInteger(g, 'kv head', 0, kvHeads - 1);
        return head(g).length;
      },
      async append(k, v) {
        check();
        const count = resolveKvStoreAppend(store, k, v);
        await exec.exclusive(async () => {
          for (let g = 0; g < kvHeads; g++) {
            const h = head(g);
            reserve(exec, h, h.length + count, dp);
            const from = g * count * dim;
            writeRows(
              exec.memory.views.f32,
              h,
              k.data.subarray(from, from + count * dim),
              v.data.subarray(from, from + count * dim),
              dim,
              dp,
            );
          }
        });
      },
      async setHead(g, keys, values) {
        check();
        resolveKvStoreSetHead(store, g, keys, values);
        await exec.exclusive(async () => {
          const h = head(g);
          h.length = 0;
          reserve(exec, h, keys.length / dim, dp);
          writeRows(exec.memory.views.f32, h, keys, values, dim, dp);
        });
      },
      async decode(q, options = {}) {
        check();
        const call = resolveKvStoreDecode(store, q, options);
        return exec.exclusive(() => decodeStored(exec, held, call, dim));
      },
      dispose() {
        if (held.disposed) return;
        held.disposed = true;
        collected.unregister(held);
        // After any call still running on the regions.
        void exec.exclusive(async () => release(held)).catch(() => undefined);
      },
    };
    collected.register(store, held, held);
    return Object.freeze(store);
  }

  return { createKvStore };
}

function freeHead(exec: Executor, h: HeadStore, dp: number): void {
  exec.arena.free(h.k, h.capacity * dp);
  exec.arena.free(h.v, h.capacity * dp);
}

/** Makes room for `slots` slots, moving what the head holds into regions twice as large when it must grow. */
function reserve(exec: Executor, h: HeadStore, slots: number, dp: number): void {
  if (slots <= h.capacity) return;
  const capacity = Math.ceil(Math.max(slots, 2 * h.capacity, TILE) / TILE) * TILE;
  const k = exec.hold(capacity * dp);
  const v = exec.hold(capacity * dp);
  const f32 = exec.memory.views.f32;
  if (h.length > 0) {
    f32.copyWithin(k, h.k, h.k + Math.ceil(h.length / TILE) * TILE * dp);
    f32.copyWithin(v, h.v, h.v + h.length * dp);
  }
  if (h.capacity > 0) freeHead(exec, h, dp);
  Object.assign(h, { k, v, capacity });
}

/** Appends rows (n × dim each) to a head: each key becomes one column of its 64-key chunk, padding channels zero. */
function writeRows(f32: Float32Array, h: HeadStore, keys: Float32Array, values: Float32Array, dim: number, dp: number): void {
  const n = keys.length / dim;
  for (let j = 0; j < n; j++) {
    const slot = h.length + j;
    const column = h.k + (slot >> 6) * TILE * dp + (slot & 63);
    const src = j * dim;
    for (let c = 0; c < dim; c++) f32[column + c * TILE] = keys[src + c] as number;
    for (let c = dim; c < dp; c++) f32[column + c * TILE] = 0;
    const row = h.v + slot * dp;
    f32.set(values.subarray(src, src + dim), row);
    if (dp > dim) f32.fill(0, row + dim, row + dp);
  }
  h.length += n;
}

/** A decode over the resident chunks: ranges of each head's slots, or the selected slots gathered by the kernel. */
async function decodeStored(exec: Executor, held: Held, call: KvStoreDecodeCall, dim: number): Promise<AttendResult> {
  const { q, width, qOffset, selection, explicit, causal, scale, scoreMod } = call;
  const kvHeads = held.heads.length;
  const shape = { heads: q.heads, kvHeads, qLength: q.length, kvLength: width, dim, qOffset };
  if (selection?.precision && explicit) {
    // Low-precision slots are rounded as stored (fake quantisation) on copies: the one path that copies the cache.
    const { k, v } = unpack(exec.memory.views.f32, held, width, dim);
    return decode(exec, { q, k, v, qOffset }, { selection, causal, scale, scoreMod });
  }
  const plan = planDecode(shape, causal, (g) => {
    const h = held.heads[g] as HeadStore;
    return explicit && selection
      ? { count: selection.slotsOf(g).length, slots: selection.slotsOf(g), gather: true }
      : { count: h.length, gather: false };
  });
  return runAttendJob(exec, q, {
    shape,
    scale,
    rowOrder: plan.rowOrder,
    scoreMod,
    plan,
    sources: { resident: (g) => held.heads[g] as HeadStore },
  });
}

/** The stored keys and values as [kvHeads, width, dim] tensors, zero-padded (the low-precision path). */
function unpack(f32: Float32Array, held: Held, width: number, dim: number): { k: HeadTensor; v: HeadTensor } {
  const kvHeads = held.heads.length;
  const k = createHeadTensor(kvHeads, width, dim);
  const v = createHeadTensor(kvHeads, width, dim);
  for (let g = 0; g < kvHeads; g++) {
    const h = held.heads[g] as HeadStore;
    for (let s = 0; s < h.length; s++) {
      const column = h.k + (s >> 6) * TILE * held.dp + (s & 63);
      const at = (g * width + s) * dim;
      for (let c = 0; c < dim; c++) k.data[at + c] = f32[column + c * TILE] as number;
      v.data.set(f32.subarray(h.v + s * held.dp, h.v + s * held.dp + dim), at);
    }
  }
  return { k, v };
}
