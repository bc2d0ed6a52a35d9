import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.js';
import { createHostLinear, referenceLinear } from './linear.js';
import { createReferenceBackend } from './reference-backend.js';

function seeded(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** One float64 dot product per output, in the order of j: what referenceLinear must equal bit for bit. */
function naive(x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number): Float32Array {
  const out = new Float32Array(rows * outDim);
  for (let t = 0; t < rows; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let j = 0; j < inDim; j++) s += (x[t * inDim + j] as number) * (w[o * inDim + j] as number);
      out[t * outDim + o] = s;
    }
  }
  return out;
}

describe('referenceLinear', () => {
  it('equals one float64 dot product per output exactly, for every blocking remainder', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 1, max: 11 }),
        fc.integer({ min: 1, max: 13 }),
        fc.nat(),
        (rows, outDim, inDim, seed) => {
          const x = seeded(rows * inDim, seed);
          const w = seeded(outDim * inDim, seed + 1);
          const out = new Float32Array(rows * outDim);
          referenceLinear(out, x, w, rows, inDim, outDim);
          expect(out).toEqual(naive(x, w, rows, inDim, outDim));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('createHostLinear / the reference backend', () => {
  const w = seeded(5 * 7, 3);

  it('runs y = x·Wᵀ, into a given out array or a new one', async () => {
    const backend = createReferenceBackend();
    const linear = await backend.prepareLinear(w, { outDim: 5, inDim: 7 });
    expect([linear.outDim, linear.inDim]).toEqual([5, 7]);
    const x = seeded(3 * 7, 4);
    const y = await linear.run(x, 3);
    expect(y).toEqual(naive(x, w, 3, 7, 5));
    const out = new Float32Array(20).fill(9);
    expect(await linear.run(x, 3, out)).toBe(out);
    expect(out.subarray(0, 15)).toEqual(y);
    expect(out[15]).toBe(9);
    expect(await linear.run(x, 0)).toEqual(new Float32Array(0));
    await backend.dispose();
    await expect(linear.run(x, 3)).rejects.toThrow(/after dispose/);
  });

  it('refuses bad weights and bad calls with coded errors that say what was expected', async () => {
    expect(() => createHostLinear(new Float32Array(34), { outDim: 5, inDim: 7 })).toThrow(/E_SHAPE.*35 floats/);
    expect(() => createHostLinear(w, { outDim: 0, inDim: 7 })).toThrow(/E_PARAMS.*outDim/);
    expect(() => createHostLinear(w, { outDim: 5, inDim: 2 ** 21 })).toThrow(/inDim/);
    expect(() => createHostLinear([1, 2] as unknown as Float32Array, { outDim: 1, inDim: 2 })).toThrow(/Float32Array/);
    const linear = createHostLinear(w, { outDim: 5, inDim: 7 });
    await expect(linear.run(new Float32Array(13), 2)).rejects.toThrow(/E_SHAPE.*at least rows·inDim = 2·7 = 14/);
    await expect(linear.run(new Float32Array(14), -1)).rejects.toThrow(/E_PARAMS.*rows/);
    await expect(linear.run(new Float32Array(14), 1.5)).rejects.toThrow(/rows/);
    await expect(linear.run(new Float32Array(14), 2, new Float32Array(9))).rejects.toThrow(/out must be.*10 floats/);
    const shared = new Float32Array(40);
    await expect(linear.run(shared.subarray(0, 14), 2, shared.subarray(10, 20))).rejects.toThrow(/overlap/);
    linear.dispose();
    await expect(linear.run(new Float32Array(14), 2)).rejects.toThrow(/disposed/);
  });
});
