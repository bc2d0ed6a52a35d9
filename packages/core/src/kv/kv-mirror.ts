import type { Backend, KvStore } from '../backend.js';
import type { HeadTensor } from '../tensor/head-tensor.js';
import type { LayerKvCache } from './layer-kv-cache.js';

/**
 * A layer's KV cache mirrored in the backend's KvStore, which decode steps read. The LayerKvCache stays the truth that
 * KV policies see and edit; before a decode the mirror appends what the cache gained since (one token per step) and
 * rewrites a head only when a policy changed its slots (its revision moved: retain, pack) or its length cannot follow
 * by appending. So a step copies the new token's key and value, not the cache. The model session, the conformance
 * kit's KV-policy backend cases and the kv-cache benchmark all read caches through it. Packed slots would be mirrored
 * dequantised; the session reads packed caches through `decodePacked` instead.
 */
export class KvMirror {
  private readonly store: KvStore;
  /** The cache revision of each head when it was last written whole (-1: never). */
  private readonly revisions: Int32Array;

  private constructor(store: KvStore) {
    this.store = store;
    this.revisions = new Int32Array(store.kvHeads).fill(-1);
  }

  static async create(backend: Backend, cache: LayerKvCache): Promise<KvMirror> {
    return new KvMirror(await backend.createKvStore({ kvHeads: cache.kvHeads, dim: cache.dim }));
  }

  /** Brings the store level with `cache` and returns it. */
  async sync(cache: LayerKvCache): Promise<KvStore> {
    const { kvHeads, dim } = cache;
    const store = this.store;
    const stale: number[] = [];
    let count = 0;
    let growing = -1;
    for (let g = 0; g < kvHeads; g++) {
      const n = cache.length(g) - store.length(g);
      if (cache.revision(g) !== this.revisions[g] || n < 0 || (growing >= 0 && n !== count)) stale.push(g);
      else if (growing < 0) {
        growing = g;
        count = n;
      }
    }
    if (count > 0) {
      // The last `count` slots of every head that only grew (stale heads get zeros, rewritten below).
      const k = new Float32Array(kvHeads * count * dim);
      const v = new Float32Array(kvHeads * count * dim);
      for (let g = 0; g < kvHeads; g++) {
        if (stale.includes(g)) continue;
        const end = cache.length(g) * dim;
        k.set(cache.keys(g).subarray(end - count * dim, end), g * count * dim);
        v.set(cache.values(g).subarray(end - count * dim, end), g * count * dim);
      }
      const tensor = (data: Float32Array): HeadTensor => ({ data, heads: kvHeads, length: count, dim });
      await store.append(tensor(k), tensor(v));
    }
    for (const g of stale) {
      await store.setHead(g, cache.keys(g), cache.values(g));
      this.revisions[g] = cache.revision(g);
    }
    return store;
  }

  dispose(): void {
    this.store.dispose();
  }
}
