import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceDecode } from '../reference/reference-attention.js';
import { createRng } from '../rng.js';
import { createHeadTensor, randomHeadTensor } from '../tensor/head-tensor.js';
import { referenceDecodePacked, resolvePackedDecodeCall } from './packed-decode.js';
import {
  expectPackedKvCache,
  type PackedKvCache,
  packedKvBytes,
  packedRowBytes,
  packKvBlock,
  readCode,
  unpackKvBlock,
  unpackKvHead,
} from './packed-kv.js';

function rows(length: number, dim: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: length * dim }, () => rng.normal());
}

describe('packKvBlock / unpackKvBlock', () => {
  it('stores codes token-major, lowest bits first: a known answer at 2, 4 and 8 bits', () => {
    // One token, 4 channels, one group: values 0, 1, 2, 3 over [0, 3].
    const k = Float32Array.of(0, 1, 2, 3);
    const b2 = packKvBlock(k, k, 1, 4, { bits: 2, keyGroup: 1, valueGroup: 4 });
    expect(Array.from(b2.keyCodes)).toEqual([0]); // constant key groups store code 0 and scale 0: exact
    expect(Array.from(b2.valueCodes)).toEqual([0b11100100]);
    expect(Array.from(b2.keyScale)).toEqual([0, 0, 0, 0]); // one token per key group: each channel is constant
    expect(Array.from(b2.keyMin)).toEqual([0, 1, 2, 3]);
    expect(Array.from(b2.valueScale)).toEqual([1]);
    const b4 = packKvBlock(k, k, 1, 4, { bits: 4, keyGroup: 1, valueGroup: 2 });
    // Value groups [0, 1] and [2, 3]: codes 0, 15, 0, 15.
    expect(Array.from(b4.valueCodes)).toEqual([0xf0, 0xf0]);
    expect(Array.from(unpackKvBlock(b4).values)).toEqual([0, 1, 2, 3]);
    const b8 = packKvBlock(k, k, 1, 4, { bits: 8, keyGroup: 1 });
    expect(Array.from(b8.valueCodes)).toEqual([0, 85, 170, 255]);
    expect(readCode(b8.valueCodes, 0, 2, 8)).toBe(170);
  });

  it('round-trips within half a step of each group (keys per channel over token groups, values per token)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(2 as const, 4 as const, 8 as const),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 19 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 1000 }),
        (bits, length, dim, keyGroup, valueGroup, seed) => {
          const k = rows(length, dim, seed);
          const v = rows(length, dim, seed + 1);
          const block = packKvBlock(k, v, length, dim, { bits, keyGroup, valueGroup });
          expect(block.keyCodes.length).toBe(length * packedRowBytes(dim, bits));
          const back = unpackKvBlock(block);
          const vg = Math.min(valueGroup, dim);
          const groupsV = Math.ceil(dim / vg);
          for (let t = 0; t < length; t++) {
            for (let c = 0; c < dim; c++) {
              const ks = block.keyScale[Math.floor(t / keyGroup) * dim + c]!;
              const vs = block.valueScale[t * groupsV + Math.floor(c / vg)]!;
              expect(Math.abs(back.keys[t * dim + c]! - k[t * dim + c]!)).toBeLessThanOrEqual(ks / 2 + 1e-5);
              expect(Math.abs(back.values[t * dim + c]! - v[t * dim + c]!)).toBeLessThanOrEqual(vs / 2 + 1e-5);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('bytes count codes, scales and mins: int4 with groups of 32 is 3/16 of float32 at dim 64', () => {
    const length = 256;
    const dim = 64;
    const block = packKvBlock(rows(length, dim, 1), rows(length, dim, 2), length, dim, { bits: 4 });
    const cache: PackedKvCache = { kvHeads: 1, dim, heads: [{ blocks: [block], keys: new Float32Array(0), values: new Float32Array(0) }] };
    expect(packedKvBytes(cache) / (length * dim * 2 * 4)).toBeCloseTo(3 / 16, 10);
  });

  it('rejects bad bits, groups and arrays with coded errors', () => {
    expect(() => packKvBlock(new Float32Array(4), new Float32Array(4), 1, 4, { bits: 3 as never })).toThrow(/E_PARAMS.*2, 4 or 8/);
    expect(() => packKvBlock(new Float32Array(4), new Float32Array(4), 2, 4, { bits: 4 })).toThrow(/E_SHAPE/);
    expect(() => packKvBlock(new Float32Array(4), new Float32Array(4), 1, 4, { bits: 4, keyGroup: 0 })).toThrow(/E_PARAMS.*keyGroup/);
    const block = packKvBlock(rows(3, 4, 1), rows(3, 4, 2), 3, 4, { bits: 4 });
    const good: PackedKvCache = {
      kvHeads: 1,
      dim: 4,
      heads: [{ blocks: [block], keys: new Float32Array(8), values: new Float32Array(8) }],
    };
    expect(() => expectPackedKvCache(good)).not.toThrow();
    expect(() => expectPackedKvCache({ ...good, kvHeads: 2 })).toThrow(/E_SHAPE.*heads must be an array of 2/);
    expect(() => expectPackedKvCache({ ...good, heads: [{ ...good.heads[0]!, values: new Float32Array(4) }] })).toThrow(
      /same whole number of rows/,
    );
    expect(() =>
      expectPackedKvCache({ ...good, heads: [{ ...good.heads[0]!, blocks: [{ ...block, keyScale: new Float32Array(1) }] }] }),
    ).toThrow(/head 0 block 0: keyScale must be a Float32Array of 4/);
    expect(() =>
      expectPackedKvCache({
        ...good,
        heads: [{ ...good.heads[0]!, blocks: [{ ...block, keyMin: Float32Array.of(Number.NaN, 0, 0, 0) }] }],
      }),
    ).toThrow(/finite/);
  });
});

describe('referenceDecodePacked', () => {
  it('equals referenceDecode over the dequantised cache (GQA, several blocks, full-precision rows)', () => {
    const dim = 16;
    const kAll = rows(90, dim, 3);
    const vAll = rows(90, dim, 4);
    const blocks = [
      packKvBlock(kAll, vAll, 40, dim, { bits: 4, keyGroup: 32 }),
      packKvBlock(kAll.subarray(40 * dim), vAll.subarray(40 * dim), 30, dim, { bits: 2, keyGroup: 8, valueGroup: 5 }),
    ];
    const head = { blocks, keys: kAll.slice(70 * dim), values: vAll.slice(70 * dim) };
    const cache: PackedKvCache = { kvHeads: 1, dim, heads: [head] };
    const q = randomHeadTensor({ heads: 3, length: 2, dim, seed: 9, scale: 1.5 });
    const packed = referenceDecodePacked({ q, cache });
    const unpacked = unpackKvHead(head, dim);
    const dense = referenceDecode({
      q,
      k: createHeadTensor(1, 90, dim, unpacked.keys),
      v: createHeadTensor(1, 90, dim, unpacked.values),
    });
    Array.from(dense.output.data).forEach((x, i) => expect(packed.output.data[i]).toBeCloseTo(x, 10));
    Array.from(dense.lse).forEach((x, i) => expect(packed.lse[i]).toBeCloseTo(x, 6));
  });

  it('ragged heads: each query reads its own kv head up to its causal slot', () => {
    const dim = 4;
    const make = (n: number, seed: number) => ({ blocks: [], keys: rows(n, dim, seed), values: rows(n, dim, seed + 1) });
    const cache: PackedKvCache = { kvHeads: 2, dim, heads: [make(5, 1), make(9, 2)] };
    const q = randomHeadTensor({ heads: 2, length: 2, dim, seed: 3 });
    const out = referenceDecodePacked({ q, cache });
    // Head 1 alone, as an ordinary decode over its 9 slots.
    const one = referenceDecode({
      q: createHeadTensor(1, 2, dim, q.data.slice(2 * dim)),
      k: createHeadTensor(1, 9, dim, cache.heads[1]!.keys),
      v: createHeadTensor(1, 9, dim, cache.heads[1]!.values),
    });
    Array.from(one.output.data).forEach((x, i) => expect(out.output.data[2 * dim + i]).toBeCloseTo(x, 10));
    expect(resolvePackedDecodeCall({ q, cache }).lengths).toEqual(Int32Array.of(5, 9));
    const short: PackedKvCache = { kvHeads: 2, dim, heads: [make(1, 1), make(9, 2)] };
    expect(() => referenceDecodePacked({ q, cache: short })).toThrow(/E_SHAPE.*newest 2 slots, but kv head 0 holds only 1/);
    expect(() => referenceDecodePacked({ q: randomHeadTensor({ heads: 3, length: 1, dim, seed: 1 }), cache })).toThrow(/multiple/);
  });
});
