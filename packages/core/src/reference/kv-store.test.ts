import { describe, expect, it } from 'vitest';
import { TokenSelection } from '../masks/token-selection.js';
import { type HeadTensor, randomHeadTensor, slicePositions } from '../tensor/head-tensor.js';
import { referenceDecode } from './reference-attention.js';
import { createReferenceBackend } from './reference-backend.js';

const dim = 6;
const k = randomHeadTensor({ heads: 2, length: 11, dim, seed: 1 });
const v = randomHeadTensor({ heads: 2, length: 11, dim, seed: 2 });
const q = randomHeadTensor({ heads: 4, length: 1, dim, seed: 3 });

/** Rows of one head as a [1, n, dim] tensor's data. */
function headRows(t: HeadTensor, g: number, slots: readonly number[]): Float32Array {
  const out = new Float32Array(slots.length * t.dim);
  slots.forEach((s, i) => out.set(t.data.subarray((g * t.length + s) * t.dim, (g * t.length + s + 1) * t.dim), i * t.dim));
  return out;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('the reference KV store (createHostKvStore)', () => {
  it('decodes what was appended, in any chunks, exactly as referenceDecode over the whole cache', async () => {
    const backend = createReferenceBackend();
    const store = await backend.createKvStore({ kvHeads: 2, dim });
    for (const [a, b] of [
      [0, 1],
      [1, 5],
      [5, 11],
    ] as const) {
      await store.append(slicePositions(k, a, b), slicePositions(v, a, b));
    }
    expect([store.length(0), store.length(1)]).toEqual([11, 11]);
    const got = await store.decode(q);
    expect(got).toEqual(referenceDecode({ q, k, v }));
    const selection = TokenSelection.fromLists([[0, 3, 10], [2]], 11);
    expect(await store.decode(q, { selection })).toEqual(referenceDecode({ q, k, v }, { selection }));
    const q3 = randomHeadTensor({ heads: 2, length: 3, dim, seed: 4 });
    expect(await store.decode(q3, { qOffset: 4, scale: 0.3 })).toEqual(referenceDecode({ q: q3, k, v, qOffset: 4 }, { scale: 0.3 }));
    await backend.dispose();
  });

  it('mirrors a ragged cache: setHead replaces one head, which then reads only its own slots', async () => {
    const backend = createReferenceBackend();
    const store = await backend.createKvStore({ kvHeads: 2, dim });
    await store.append(k, v);
    const kept = [0, 4, 7, 9];
    await store.setHead(1, headRows(k, 1, kept), headRows(v, 1, kept));
    expect([store.length(0), store.length(1)]).toEqual([11, 4]);
    // The reference equivalent: each head's rows from slot 0, zero padding after, read through a selection.
    const padded = (rows: Float32Array[], width: number): HeadTensor => {
      const data = new Float32Array(2 * width * dim);
      rows.forEach((r, g) => data.set(r, g * width * dim));
      return { data, heads: 2, length: width, dim };
    };
    const all = Array.from({ length: 11 }, (_, i) => i);
    const own = (a: number, b: number) => TokenSelection.fromLists([range(a), range(b)], Math.max(a, b));
    expect(await store.decode(q)).toEqual(
      referenceDecode(
        { q, k: padded([headRows(k, 0, all), headRows(k, 1, kept)], 11), v: padded([headRows(v, 0, all), headRows(v, 1, kept)], 11) },
        { selection: own(11, 4) },
      ),
    );
    await expect(store.decode(q, { selection: TokenSelection.fromLists([[1], [5]], 11) })).rejects.toThrow(
      /slot 5 of kv head 1, which holds 4/,
    );
    await store.append(slicePositions(k, 2, 3), slicePositions(v, 2, 3));
    expect([store.length(0), store.length(1)]).toEqual([12, 5]);
    const k12 = padded([headRows(k, 0, [...all, 2]), headRows(k, 1, [...kept, 2])], 12);
    const v12 = padded([headRows(v, 0, [...all, 2]), headRows(v, 1, [...kept, 2])], 12);
    expect(await store.decode(q)).toEqual(referenceDecode({ q, k: k12, v: v12 }, { selection: own(12, 5) }));
    const chosen = TokenSelection.fromLists(
      [
        [0, 11],
        [1, 4],
      ],
      12,
    );
    expect(await store.decode(q, { selection: chosen })).toEqual(referenceDecode({ q, k: k12, v: v12 }, { selection: chosen }));
  });

  it('refuses bad shapes, appends and decode calls with coded errors', async () => {
    const backend = createReferenceBackend();
    await expect(backend.createKvStore({ kvHeads: 0, dim })).rejects.toThrow(/E_PARAMS.*kvHeads/);
    await expect(backend.createKvStore({ kvHeads: 2, dim: 2000 })).rejects.toThrow(/dim/);
    const store = await backend.createKvStore({ kvHeads: 2, dim });
    await expect(store.decode(q)).rejects.toThrow(/E_SHAPE.*holds no keys/);
    await expect(store.append(randomHeadTensor({ heads: 1, length: 2, dim, seed: 1 }), v)).rejects.toThrow(/E_SHAPE.*kvHeads 2/);
    await expect(store.append(k, slicePositions(v, 0, 3))).rejects.toThrow(/same count/);
    await expect(store.setHead(2, new Float32Array(dim), new Float32Array(dim))).rejects.toThrow(/kv head/);
    await expect(store.setHead(0, new Float32Array(dim + 1), new Float32Array(dim + 1))).rejects.toThrow(/multiple of dim 6/);
    await store.append(k, v);
    await expect(store.decode(randomHeadTensor({ heads: 3, length: 1, dim, seed: 1 }))).rejects.toThrow(
      /multiple of the store's 2 kv heads/,
    );
    await expect(store.decode(q, { qOffset: 11 })).rejects.toThrow(/qOffset/);
    await expect(store.decode(q, { selection: TokenSelection.fromLists([[0], [1]], 12) })).rejects.toThrow(/E_SHAPE/);
    store.dispose();
    await expect(store.decode(q)).rejects.toThrow(/disposed/);
  });
});
