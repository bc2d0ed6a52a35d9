import { describe, expect, it } from 'vitest';
import { TokenSelection } from '../masks/token-selection.js';
import { referenceDecode } from '../reference/reference-attention.js';
import { createRng } from '../rng.js';
import { createHeadTensor, randomHeadTensor } from '../tensor/head-tensor.js';
import { LayerKvCache } from './layer-kv-cache.js';

function rows(kvHeads: number, count: number, dim: number, seed: number) {
  const rng = createRng(seed);
  const t = createHeadTensor(kvHeads, count, dim);
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal();
  return t;
}

describe('LayerKvCache', () => {
  it('appends per head, grows past its initial capacity, and reports positions and bytes', () => {
    const cache = new LayerKvCache(2, 3, 4, 2);
    const k1 = rows(3, 5, 4, 1);
    const v1 = rows(3, 5, 4, 2);
    cache.append(k1, v1, 0);
    const k2 = rows(3, 1, 4, 3);
    cache.append(k2, rows(3, 1, 4, 4), 5);
    expect(cache.length(1)).toBe(6);
    expect(Array.from(cache.positions(2))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(cache.keys(1).subarray(0, 20))).toEqual(Array.from(k1.data.subarray(20, 40)));
    expect(Array.from(cache.keys(1).subarray(20))).toEqual(Array.from(k2.data.subarray(4, 8)));
    expect(Array.from(cache.values(0).subarray(0, 20))).toEqual(Array.from(v1.data.subarray(0, 20)));
    // Keys and values (float32) plus one int32 position per slot.
    expect(cache.bytes()).toBe(3 * 6 * (4 * 2 * 4 + 4));
    expect(cache.isPositional()).toBe(true);
    expect(cache.tokensWritten).toBe(6);
  });

  it('retain keeps the given slots of one head, compacted, and shrinks its storage', () => {
    const cache = new LayerKvCache(0, 2, 3);
    const k = rows(2, 200, 3, 5);
    cache.append(k, rows(2, 200, 3, 6), 10);
    cache.retain(1, Int32Array.of(0, 7, 199));
    expect(cache.length(1)).toBe(3);
    expect(cache.length(0)).toBe(200);
    expect(Array.from(cache.positions(1))).toEqual([10, 17, 209]);
    expect(Array.from(cache.keys(1))).toEqual(
      Array.from([0, 7, 199].flatMap((s) => Array.from(k.data.subarray((200 + s) * 3, (201 + s) * 3)))),
    );
    expect(cache.bytes()).toBe((200 + 3) * (3 * 2 * 4 + 4));
    expect(cache.isPositional()).toBe(false);
    const { k: gathered } = cache.gather();
    expect(gathered.length).toBe(200);
    expect(Array.from(gathered.data.subarray(200 * 3 + 9, 200 * 3 + 12))).toEqual([0, 0, 0]);
    // Appending after a retain continues after the kept slots.
    cache.append(rows(2, 1, 3, 7), rows(2, 1, 3, 8), 210);
    expect(Array.from(cache.positions(1))).toEqual([10, 17, 209, 210]);
  });

  it('pack moves full-precision slots into a packed block: bytes shrink, keys read back dequantised, positions follow', () => {
    const d = 8;
    const cache = new LayerKvCache(0, 2, d);
    const k = rows(2, 100, d, 9);
    const v = rows(2, 100, d, 10);
    cache.append(k, v, 0);
    const before = cache.bytes();
    // Head 1 packs every even slot among the first 64 (a tier, not a prefix), 4 bits, groups of 8.
    const slots = Int32Array.from({ length: 32 }, (_, i) => 2 * i);
    cache.pack(1, slots, { bits: 4, keyGroup: 8, valueGroup: 8 });
    expect(cache.packedLength(1)).toBe(32);
    expect(cache.length(1)).toBe(100);
    expect(cache.isPositional()).toBe(false);
    expect(cache.hasPacked()).toBe(true);
    const positions = Array.from(cache.positions(1));
    expect(positions.slice(0, 32)).toEqual(Array.from(slots));
    expect(positions.slice(32, 64)).toEqual(Array.from({ length: 32 }, (_, i) => 2 * i + 1));
    expect(positions.slice(64)).toEqual(Array.from({ length: 36 }, (_, i) => 64 + i));
    // 32 slots: 4 bytes of codes each for K and V, per-channel scale+min per 8-token group for K, per token for V.
    const packedBytes = 32 * 4 * 2 + (32 / 8) * d * 2 * 4 + 32 * 2 * 4;
    expect(cache.bytes()).toBe(before - 32 * d * 2 * 4 + packedBytes);
    // Dequantised keys are close to the originals (4 bits over each group's range), full-precision slots exact.
    const keys = cache.keys(1);
    for (let i = 0; i < 32; i++) {
      for (let c = 0; c < d; c++) expect(Math.abs(keys[i * d + c]! - k.data[(100 + 2 * i) * d + c]!)).toBeLessThan(0.6);
    }
    expect(Array.from(keys.subarray(32 * d, 33 * d))).toEqual(Array.from(k.data.subarray(101 * d, 102 * d)));
    // The packed view holds the block and the full-precision rows.
    const view = cache.packedView();
    expect(view.heads[1]!.blocks[0]!.length).toBe(32);
    expect(view.heads[1]!.keys.length).toBe(68 * d);
    expect(view.heads[0]!.blocks.length).toBe(0);
    // Evicting a packed slot re-packs its block without it; evicting full-precision slots compacts as before.
    cache.retain(1, Int32Array.from([...Array(100).keys()].filter((s) => s !== 5 && s !== 70)));
    expect(cache.packedLength(1)).toBe(31);
    expect(cache.length(1)).toBe(98);
    expect(Array.from(cache.positions(1)).includes(10)).toBe(false);
    expect(Array.from(cache.positions(1)).includes(70)).toBe(false);
    expect(Array.from(cache.positions(1)).includes(71)).toBe(true);
    expect(() => cache.pack(1, Int32Array.of(3), { bits: 4 })).toThrow(/strictly increasing in \[31, 98\)/);
  });

  it('rejects bad heads and slot lists with E_PARAMS', () => {
    const cache = new LayerKvCache(0, 2, 3);
    cache.append(rows(2, 4, 3, 1), rows(2, 4, 3, 2), 0);
    expect(() => cache.retain(0, Int32Array.of(2, 1))).toThrow(/strictly increasing in \[0, 4\), got 1 at index 1/);
    expect(() => cache.retain(0, Int32Array.of(4))).toThrow(/E_PARAMS/);
    expect(() => cache.retain(0, [1] as never)).toThrow(/Int32Array/);
    expect(() => cache.length(2)).toThrow(/kv head must be an integer in \[0, 2\)/);
  });

  it('gatherSelected copies only the selected rows; decoding through it equals decoding the whole cache', () => {
    const cache = new LayerKvCache(0, 2, 8);
    cache.append(rows(2, 50, 8, 3), rows(2, 50, 8, 4), 0);
    cache.retain(
      1,
      Int32Array.from({ length: 30 }, (_, i) => i + 20),
    );
    const q = randomHeadTensor({ heads: 4, length: 1, dim: 8, seed: 5 });
    const whole = cache.gather();
    for (const selection of [
      TokenSelection.fromLists(
        [
          [0, 9, 49],
          [3, 29],
        ],
        50,
      ),
      TokenSelection.fromLists(
        [
          [1, 2],
          [28, 29],
        ],
        50,
      ),
      new TokenSelection({
        kvHeads: 2,
        kvLength: 50,
        rowPtr: Int32Array.of(0, 2, 3),
        slots: Int32Array.of(4, 49, 29),
        precision: Uint8Array.of(4, 32, 8),
      }),
    ]) {
      const compact = cache.gatherSelected(selection);
      expect(compact.k.length).toBe(Math.max(selection.slotsOf(0).length, selection.slotsOf(1).length));
      const a = referenceDecode({ q, k: compact.k, v: compact.v }, { selection: compact.selection, causal: false });
      const b = referenceDecode({ q, ...whole }, { selection });
      Array.from(b.output.data).forEach((x, i) => expect(a.output.data[i]).toBeCloseTo(x, 6));
    }
  });

  it('gatherSelected over packed slots dequantises just the selected rows, exactly as gather() does', () => {
    const cache = new LayerKvCache(0, 2, 12);
    cache.append(rows(2, 150, 12, 5), rows(2, 150, 12, 6), 0);
    // Head 0: two blocks (int4 then int2, odd groups) before its full-precision rows; head 1: one int8 block.
    cache.pack(
      0,
      Int32Array.from({ length: 40 }, (_, i) => i),
      { bits: 4, keyGroup: 7, valueGroup: 5 },
    );
    cache.pack(
      0,
      Int32Array.from({ length: 70 }, (_, i) => 40 + i),
      { bits: 2 },
    );
    cache.pack(
      1,
      Int32Array.from({ length: 100 }, (_, i) => i),
      { bits: 8 },
    );
    const whole = cache.gather();
    const selection = TokenSelection.fromLists(
      [
        [0, 6, 7, 39, 40, 41, 109, 110, 111, 149],
        [5, 99, 100, 101, 102, 149],
      ],
      150,
    );
    const compact = cache.gatherSelected(selection);
    for (let g = 0; g < 2; g++) {
      selection.slotsOf(g).forEach((s, i) => {
        const at = (g * 150 + s) * 12;
        const to = (g * compact.k.length + i) * 12;
        expect(Array.from(compact.k.data.subarray(to, to + 12))).toEqual(Array.from(whole.k.data.subarray(at, at + 12)));
        expect(Array.from(compact.v.data.subarray(to, to + 12))).toEqual(Array.from(whole.v.data.subarray(at, at + 12)));
      });
    }
  });

  it('eviction and packing give memory back: what is allocated follows what is held', () => {
    const cache = new LayerKvCache(0, 2, 16);
    cache.append(rows(2, 2048, 16, 1), rows(2, 2048, 16, 2), 0);
    const full = cache.allocatedBytes();
    expect(full).toBe(cache.bytes());
    // A quarter kept (StreamingLLM at 25 %): the arrays shrink to it, with some slack.
    for (let g = 0; g < 2; g++)
      cache.retain(
        g,
        Int32Array.from({ length: 512 }, (_, i) => 1536 + i),
      );
    expect(cache.allocatedBytes()).toBeLessThan(0.35 * full);
    expect(cache.allocatedBytes()).toBeLessThan(1.3 * cache.bytes());
    // Steady state of an evicting policy: append one, evict one, no growth.
    const before = cache.allocatedBytes();
    for (let t = 0; t < 40; t++) {
      cache.append(rows(2, 1, 16, 10 + t), rows(2, 1, 16, 50 + t), 2048 + t);
      for (let g = 0; g < 2; g++)
        cache.retain(
          g,
          Int32Array.from({ length: 512 }, (_, i) => i + 1),
        );
    }
    expect(cache.allocatedBytes()).toBe(before);
    // Packing all but 32 slots: the full-precision rows shrink too.
    for (let g = 0; g < 2; g++)
      cache.pack(
        g,
        Int32Array.from({ length: 480 }, (_, i) => i),
        { bits: 4 },
      );
    expect(cache.allocatedBytes()).toBeLessThan(0.4 * before);
  });
});
