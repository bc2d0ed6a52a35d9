import { describe, expect, it } from 'vitest';
import type { Backend, KvStore } from '../backend.js';
import { TokenSelection } from '../masks/token-selection.js';
import { referenceDecode } from '../reference/reference-attention.js';
import { createReferenceBackend } from '../reference/reference-backend.js';
import { randomHeadTensor } from '../tensor/head-tensor.js';
import { KvMirror } from './kv-mirror.js';
import { LayerKvCache } from './layer-kv-cache.js';

/** The reference backend whose stores count the rows each append and setHead writes. */
function countingBackend(): { backend: Backend; appended: number[]; rewritten: number[] } {
  const reference = createReferenceBackend();
  const appended: number[] = [];
  const rewritten: number[] = [];
  const backend: Backend = {
    ...reference,
    async createKvStore(shape) {
      const store = await reference.createKvStore(shape);
      const counted: KvStore = {
        kvHeads: store.kvHeads,
        dim: store.dim,
        length: (g) => store.length(g),
        append: async (k, v) => {
          appended.push(k.length);
          await store.append(k, v);
        },
        setHead: async (g, keys, values) => {
          rewritten.push(g);
          await store.setHead(g, keys, values);
        },
        decode: (q, options) => store.decode(q, options),
        dispose: () => store.dispose(),
      };
      return counted;
    },
  };
  return { backend, appended, rewritten };
}

const dim = 8;
const rows = (length: number, seed: number) => randomHeadTensor({ heads: 3, length, dim, seed });

/** Decoding the store equals the reference decode over the cache, each head reading the slots it holds. */
async function expectMirrors(store: KvStore, cache: LayerKvCache, seed: number): Promise<void> {
  const width = cache.maxLength();
  for (let g = 0; g < cache.kvHeads; g++) expect(store.length(g)).toBe(cache.length(g));
  const q = randomHeadTensor({ heads: 6, length: 1, dim, seed });
  const all = TokenSelection.fromLists(
    Array.from({ length: cache.kvHeads }, (_, g) => Array.from({ length: cache.length(g) }, (_, s) => s)),
    width,
  );
  const got = await store.decode(q, { selection: all });
  const want = referenceDecode({ q, ...cache.gather() }, { selection: all });
  Array.from(want.output.data).forEach((x, i) => expect(got.output.data[i]).toBeCloseTo(x, 5));
}

describe('KvMirror', () => {
  it('appends only what the cache gained and rewrites only heads a policy changed', async () => {
    const { backend, appended, rewritten } = countingBackend();
    const cache = new LayerKvCache(0, 3, dim);
    cache.append(rows(20, 1), rows(20, 2), 0);
    const mirror = await KvMirror.create(backend, cache);
    const store = await mirror.sync(cache);
    // A fresh store: every head is written whole once.
    expect([appended, rewritten]).toEqual([[], [0, 1, 2]]);
    await expectMirrors(store, cache, 3);

    cache.append(rows(1, 4), rows(1, 5), 20);
    await mirror.sync(cache);
    expect([appended, rewritten]).toEqual([[1], [0, 1, 2]]);
    await expectMirrors(store, cache, 6);

    // A retain on head 1 (its revision moves), then a token for every head: head 1 is rewritten, the others grow.
    cache.retain(
      1,
      Int32Array.from({ length: 10 }, (_, i) => 2 * i),
    );
    cache.append(rows(1, 7), rows(1, 8), 21);
    await mirror.sync(cache);
    expect([appended, rewritten]).toEqual([
      [1, 1],
      [0, 1, 2, 1],
    ]);
    await expectMirrors(store, cache, 9);

    // Nothing changed: nothing is written.
    await mirror.sync(cache);
    expect([appended, rewritten]).toEqual([
      [1, 1],
      [0, 1, 2, 1],
    ]);

    // Packing moves the revision too (the mirrored rows are the dequantised ones).
    cache.pack(
      2,
      Int32Array.from({ length: 16 }, (_, i) => i),
      { bits: 4, keyGroup: 8, valueGroup: 8 },
    );
    await mirror.sync(cache);
    expect(rewritten).toEqual([0, 1, 2, 1, 2]);
    await expectMirrors(store, cache, 10);
    mirror.dispose();
  });
});
