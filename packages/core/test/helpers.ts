import fc from 'fast-check';
import type { MaskMod, MaskShape } from '../src/index.js';
import { createRng } from '../src/kit.js';

/** A random shape small enough for dense checks. */
export const arbShape = fc.record({
  heads: fc.integer({ min: 1, max: 3 }),
  qLength: fc.integer({ min: 1, max: 40 }),
  extraKv: fc.integer({ min: 0, max: 24 }),
  blockQ: fc.integer({ min: 1, max: 16 }),
  blockK: fc.integer({ min: 1, max: 16 }),
});

export type ArbShape = { heads: number; qLength: number; extraKv: number; blockQ: number; blockK: number };

export function toMaskShape(s: ArbShape): MaskShape {
  const kvLength = s.qLength + s.extraKv;
  return { heads: s.heads, qLength: s.qLength, kvLength, qOffset: kvLength - s.qLength };
}

/**
 * A structured random MaskMod: mixes bands, stripes, blocks of noise, so that full, partial and empty blocks all
 * appear. Pure (a hash of the seed and the coordinates).
 */
export function randomMaskMod(seed: number, kind: number): MaskMod {
  const rng = createRng(seed);
  const window = 1 + rng.int(12);
  const stride = 2 + rng.int(5);
  const cut = rng.next();
  const hash = (h: number, q: number, k: number): number => {
    let x = (seed ^ Math.imul(h + 1, 0x9e3779b1) ^ Math.imul(q + 7, 0x85ebca6b) ^ Math.imul(k + 13, 0xc2b2ae35)) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x ^= x >>> 15;
    return x / 4294967296;
  };
  switch (kind % 5) {
    case 0:
      return (_h, q, k) => q - k >= 0 && q - k < window;
    case 1:
      return (h, q, k) => k % stride === h % stride || Math.abs(q - k) < 2;
    case 2:
      return (h, q, k) => hash(h, q, k) < cut;
    case 3:
      return (h, q, k) => Math.floor(q / 5) === Math.floor(k / 5) || hash(h, Math.floor(q / 7), Math.floor(k / 7)) < cut;
    default:
      return () => cut < 0.5;
  }
}

/** Dense 0/1 matrix of a MaskMod over a shape. */
export function denseOf(mod: MaskMod, shape: MaskShape): Uint8Array {
  const out = new Uint8Array(shape.heads * shape.qLength * shape.kvLength);
  for (let h = 0; h < shape.heads; h++) {
    for (let i = 0; i < shape.qLength; i++) {
      for (let k = 0; k < shape.kvLength; k++) out[(h * shape.qLength + i) * shape.kvLength + k] = mod(h, shape.qOffset + i, k) ? 1 : 0;
    }
  }
  return out;
}

/** Textbook attention of one row in float64, straight from the formula: the oracle of the oracle. */
export function naiveRow(q: Float32Array, keys: Float32Array[], values: Float32Array[], scale: number): { out: number[]; lse: number } {
  if (keys.length === 0) return { out: Array.from({ length: q.length }, () => 0), lse: -Infinity };
  const logits = keys.map((k) => scale * k.reduce((s, x, c) => s + x * (q[c] as number), 0));
  const max = Math.max(...logits);
  const w = logits.map((l) => Math.exp(l - max));
  const z = w.reduce((a, b) => a + b, 0);
  const out = Array.from({ length: q.length }, (_, c) => values.reduce((s, v, j) => s + (w[j] as number) * (v[c] as number), 0) / z);
  return { out, lse: max + Math.log(z) };
}
