import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { naiveRow } from '../../test/helpers.js';
import { createBlockMask } from '../masks/build-block-mask.js';
import { ColumnMask } from '../masks/column-mask.js';
import { causal, emptyMask, type MaskMod } from '../masks/mask-mod.js';
import { TokenSelection } from '../masks/token-selection.js';
import { type HeadTensor, kvHeadOf, randomHeadTensor, slicePositions } from '../tensor/head-tensor.js';
import { referenceAttention, referenceDecode } from './reference-attention.js';

function row(t: HeadTensor, h: number, i: number): Float32Array {
  return t.data.subarray((h * t.length + i) * t.dim, (h * t.length + i + 1) * t.dim);
}

function inputs(qHeads: number, kvHeads: number, qLength: number, kvLength: number, dim: number, seed: number) {
  return {
    q: randomHeadTensor({ heads: qHeads, length: qLength, dim, seed }),
    k: randomHeadTensor({ heads: kvHeads, length: kvLength, dim, seed: seed + 1 }),
    v: randomHeadTensor({ heads: kvHeads, length: kvLength, dim, seed: seed + 2 }),
  };
}

/** Checks every row against the textbook formula over the keys `keep` selects. */
function expectMatchesNaive(
  input: ReturnType<typeof inputs>,
  qOffset: number,
  result: ReturnType<typeof referenceAttention>,
  keep: (h: number, qPos: number, k: number) => boolean,
  scale = 1 / Math.sqrt(input.q.dim),
): void {
  const { q, k, v } = input;
  for (let h = 0; h < q.heads; h++) {
    const g = kvHeadOf(h, q.heads, k.heads);
    for (let i = 0; i < q.length; i++) {
      const js = Array.from({ length: k.length }, (_, j) => j).filter((j) => keep(h, qOffset + i, j));
      const expected = naiveRow(
        row(q, h, i),
        js.map((j) => row(k, g, j)),
        js.map((j) => row(v, g, j)),
        scale,
      );
      const got = Array.from(row(result.output, h, i));
      got.forEach((x, c) => expect(x).toBeCloseTo(expected.out[c] as number, 5));
      const lse = result.lse[h * q.length + i] as number;
      if (expected.lse === -Infinity) expect(lse).toBe(-Infinity);
      else expect(lse).toBeCloseTo(expected.lse, 4);
    }
  }
}

describe('referenceAttention', () => {
  it('matches the textbook formula: causal, GQA, qOffset, odd sizes', () => {
    fc.assert(
      fc.property(
        fc.constantFrom([1, 1], [2, 1], [4, 2], [4, 1], [6, 3]),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom(1, 3, 8),
        fc.nat(1000),
        ([hq, hkv], qLength, extra, dim, seed) => {
          const input = inputs(hq as number, hkv as number, qLength, qLength + extra, dim, seed);
          const result = referenceAttention(input);
          expectMatchesNaive(input, extra, result, (_h, q, k) => k <= q);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('non-causal attention reads every key', () => {
    const input = inputs(2, 2, 5, 7, 4, 11);
    expectMatchesNaive(input, 2, referenceAttention(input, { causal: false }), () => true);
  });

  it('gives the same answer for a MaskMod, its BlockMask, and masks with partial blocks', () => {
    const input = inputs(4, 2, 13, 13, 8, 3);
    const local: MaskMod = (h, q, k) => q - k < 3 + h || k === 0;
    const shape = { heads: 4, qLength: 13, kvLength: 13, qOffset: 0 };
    const viaMod = referenceAttention(input, { mask: local });
    const viaBlocks = referenceAttention(input, { mask: createBlockMask(local, shape, { blockQ: 4, blockK: 3 }) });
    expect(Array.from(viaBlocks.output.data)).toEqual(Array.from(viaMod.output.data));
    expectMatchesNaive(input, 0, viaMod, (h, q, k) => k <= q && local(h, q, k));
  });

  it('counts a key named by both blocks and columns once', () => {
    const input = inputs(1, 1, 6, 6, 4, 5);
    const shape = { heads: 1, qLength: 6, kvLength: 6, qOffset: 0 };
    const blocks = createBlockMask((_h, q, k) => q - k < 2, shape, { blockQ: 2, blockK: 2 });
    const columns = ColumnMask.build(shape, 3, {}, (_h, _qb, out) => out.pushAll([0, 1, 4]));
    const result = referenceAttention(input, { mask: { blocks, columns } });
    expectMatchesNaive(input, 0, result, (_h, q, k) => k <= q && (q - k < 2 || k === 0 || k === 1 || k === 4));
  });

  it('empty rows give zeros and lse = -Infinity', () => {
    const input = inputs(2, 1, 4, 4, 4, 9);
    const result = referenceAttention(input, { mask: emptyMask });
    expect(Array.from(result.output.data).every((x) => x === 0)).toBe(true);
    expect(Array.from(result.lse).every((x) => x === -Infinity)).toBe(true);
    // A scoreMod that sends every logit to -Infinity empties rows too.
    const masked = referenceAttention(input, { scoreMod: () => -Infinity });
    expect(Array.from(masked.lse).every((x) => x === -Infinity)).toBe(true);
  });

  it('applies scoreMod to the scaled logit', () => {
    const input = inputs(2, 2, 5, 5, 4, 1);
    const bias = (s: number, h: number, q: number, k: number) => s - 0.5 * (h + 1) * (q - k);
    const a = referenceAttention(input, { scoreMod: bias, scale: 0.3 });
    const { q, k, v } = input;
    for (let h = 0; h < 2; h++) {
      for (let i = 0; i < 5; i++) {
        const logits = Array.from({ length: i + 1 }, (_, j) =>
          bias(0.3 * row(q, h, i).reduce((s, x, c) => s + x * (row(k, h, j)[c] as number), 0), h, i, j),
        );
        const m = Math.max(...logits);
        const w = logits.map((l) => Math.exp(l - m));
        const z = w.reduce((x, y) => x + y);
        for (let c = 0; c < 4; c++) {
          const want = w.reduce((s, p, j) => s + p * (row(v, h, j)[c] as number), 0) / z;
          expect(row(a.output, h, i)[c]).toBeCloseTo(want, 5);
        }
      }
    }
  });

  it('chunked prefill and one-token decode equal the matching rows of full prefill', () => {
    const full = inputs(4, 2, 12, 12, 8, 21);
    const all = referenceAttention(full);
    // The last chunk: qOffset defaults to kvLength - qLength = 8.
    const chunk = referenceAttention({ ...full, q: slicePositions(full.q, 8, 12) });
    for (let h = 0; h < 4; h++) {
      for (let i = 0; i < 4; i++) {
        Array.from(row(chunk.output, h, i)).forEach((x, c) => expect(x).toBeCloseTo(row(all.output, h, 8 + i)[c] as number, 6));
      }
    }
    // Explicit qOffset 5 with keys 0..8 only: same as rows 5..8 of the full call.
    const short = referenceAttention({
      q: slicePositions(full.q, 5, 9),
      k: slicePositions(full.k, 0, 9),
      v: slicePositions(full.v, 0, 9),
      qOffset: 5,
    });
    for (let h = 0; h < 4; h++)
      for (let i = 0; i < 4; i++)
        Array.from(row(short.output, h, i)).forEach((x, c) => expect(x).toBeCloseTo(row(all.output, h, 5 + i)[c] as number, 6));
    const decode = referenceDecode({ ...full, q: slicePositions(full.q, 11, 12) });
    for (let h = 0; h < 4; h++)
      Array.from(row(decode.output, h, 0)).forEach((x, c) => expect(x).toBeCloseTo(row(all.output, h, 11)[c] as number, 6));
  });
});

describe('referenceDecode', () => {
  it('reads only the selected slots of each kv head', () => {
    const input = inputs(4, 2, 1, 10, 4, 8);
    const selection = TokenSelection.fromLists(
      [
        [0, 3, 9],
        [2, 5],
      ],
      10,
    );
    const result = referenceDecode(input, { selection });
    expectMatchesNaive(input, 9, result, (h, _q, k) => (Math.floor(h / 2) === 0 ? [0, 3, 9] : [2, 5]).includes(k));
  });

  it('reads low-precision slots through fake quantisation', () => {
    const input = inputs(1, 1, 1, 6, 8, 2);
    const exact = referenceDecode(input, { selection: TokenSelection.fromLists([[0, 1, 2, 3, 4, 5]], 6) });
    const sel = new TokenSelection({
      kvHeads: 1,
      kvLength: 6,
      rowPtr: Int32Array.of(0, 6),
      slots: Int32Array.of(0, 1, 2, 3, 4, 5),
      precision: Uint8Array.of(32, 32, 2, 2, 2, 2),
    });
    const lossy = referenceDecode(input, { selection: sel });
    const diff = Array.from(lossy.output.data).reduce((s, x, i) => s + Math.abs(x - (exact.output.data[i] as number)), 0);
    expect(diff).toBeGreaterThan(1e-3);
    // The input itself is untouched.
    const again = referenceDecode(input, { selection: TokenSelection.fromLists([[0, 1, 2, 3, 4, 5]], 6) });
    expect(Array.from(again.output.data)).toEqual(Array.from(exact.output.data));
  });

  it('rejects a selection made for another cache', () => {
    const input = inputs(2, 2, 1, 5, 4, 1);
    expect(() => referenceDecode(input, { selection: TokenSelection.fromLists([[0]], 5) })).toThrow(/E_SHAPE.*1 kv heads over 5 slots/);
  });
});

describe('causal mask helper', () => {
  it('is exactly k <= q', () => {
    expect(causal(0, 3, 3)).toBe(true);
    expect(causal(0, 3, 4)).toBe(false);
  });
});
