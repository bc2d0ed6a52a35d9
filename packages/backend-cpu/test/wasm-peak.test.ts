import { beforeAll, describe, expect, it } from 'vitest';
import { CHAINS, ceilingFor, measureWasmPeak, peakModule, type WasmPeak } from '../bench/wasm-peak.js';
import { relaxedSimdReason } from '../src/environment.js';

// The benchmark's ceiling probe is assembled by hand (bench/wasm-peak.ts): these check that the bytes are the
// program they claim to be, since every "% of the WebAssembly ceiling" in `pnpm bench` divides by what it measures.

beforeAll(async () => {
  expect(await relaxedSimdReason()).toBeUndefined();
});

/** What peak(iterations, seed) must return: chain c starts at c/10 and steps x ← x·0.999 + seed in float32. */
function expectedPeak(iterations: number, seed: number): number {
  const f = Math.fround;
  let sum = 0;
  for (let c = 0; c < CHAINS; c++) {
    let x = f(c / 10);
    // A fused multiply-add may round once instead of twice: the tolerance below covers either.
    for (let i = 0; i < iterations; i++) x = f(f(x * f(0.999)) + f(seed));
    sum += 4 * x;
  }
  return sum;
}

describe('WebAssembly FMA ceiling probe', () => {
  const peak = () =>
    new WebAssembly.Instance(new WebAssembly.Module(peakModule()), {}).exports['peak'] as (n: number, seed: number) => number;

  it('validates and exports peak(iterations, seed)', () => {
    expect(WebAssembly.validate(peakModule())).toBe(true);
    expect(typeof peak()).toBe('function');
  });

  it('computes every chain: x ← x·0.999 + seed, summed over chains and lanes', () => {
    const run = peak();
    for (const [iterations, seed] of [
      [0, 0.001],
      [1, 0.001],
      [7, 0.5],
      [1000, 0.001],
    ] as const) {
      expect(run(iterations, seed)).toBeCloseTo(expectedPeak(iterations, seed), 3);
    }
  });

  it('measures a positive ceiling for one thread and for two at once', async () => {
    const measured = await measureWasmPeak(2, 5);
    expect(measured.perThread).toBeGreaterThan(0);
    expect(measured.allThreads).toBeGreaterThan(0);
    expect(measured.runs.map((r) => r.gflops)).toEqual([measured.perThread, measured.allThreads]);
    expect(measured.runs.map((r) => [r.threads, r.runs])).toEqual([
      [1, 5],
      [2, 5],
    ]);
  });

  it('scales the ceiling to the thread count it is asked for', () => {
    const measured: WasmPeak = { perThread: 40, allThreads: 76, threads: 2, runs: [] };
    expect(ceilingFor(measured, 1)).toBe(40);
    expect(ceilingFor(measured, 2)).toBe(76);
    expect(ceilingFor(measured, 4)).toBe(152);
  });
});
