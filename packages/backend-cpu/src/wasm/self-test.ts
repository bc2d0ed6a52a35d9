import { MODE_CAUSAL } from '../kernels.js';
import { scratchFloats } from '../scratch-layout.js';
import { createViews } from '../ts-kernels.js';
import { loadKernels, type SimdVariant } from './wasm-module.js';

/**
 * How far the relaxed kernels may stray from the SIMD128 ones in the start-up self-test: the conformance kit's
 * fp32 output tolerance (|a − b| ≤ atol + rtol·|b|; a test checks the two stay equal). A fused multiply-add rounds
 * once where mul + add rounds twice, so the variants differ by a few ulps; anything beyond that is a broken engine.
 */
export const SELF_TEST_TOLERANCE = Object.freeze({ atol: 2e-5, rtol: 2e-4 });

const PAGE = 65536;
// Element offsets in a small memory of its own: Q rows, a transposed key tile, value rows, the row table, outputs,
// statistics, then one scratch area.
const Q = 0;
const KT = 8192;
const V = 16384;
const ROWS = 24576;
const OUT = 25600;
const STAT = 30720;
const SCR = 32768;

/** Output rows and (max, sum) statistics of one small attention task on the given kernel build. */
async function runTile(variant: SimdVariant, shared: boolean, dp: number, rows: number, n: number): Promise<Float32Array> {
  const floats = SCR + scratchFloats(dp) + 1024;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((floats * 4) / PAGE), maximum: 64, shared });
  const { kernels } = await loadKernels(variant, shared, memory);
  const { f32, i32 } = createViews(memory.buffer);
  // Deterministic inputs from a 32-bit LCG, in [-1.5, 1.5).
  let state = 0x2545f491 ^ (dp * 977 + n);
  const next = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) | 0;
    return ((state >>> 8) / 2 ** 24) * 3 - 1.5;
  };
  for (let i = 0; i < rows * dp; i++) f32[Q + i] = next();
  for (let i = 0; i < 64 * dp; i++) f32[KT + i] = next();
  for (let i = 0; i < 64 * dp; i++) f32[V + i] = next();
  for (let r = 0; r < rows; r++) i32.set([Q + r * dp, OUT + r * dp, STAT + 2 * r, 20 + 3 * r], ROWS + 4 * r);
  kernels.configure(dp);
  kernels.begin(SCR, ROWS, rows, 1 / Math.sqrt(dp));
  // A causal tile (keys 0..n-1, rows at positions 20, 23, ...) and then the same keys unmasked as a second tile.
  kernels.tile(SCR, rows, KT, V, n, MODE_CAUSAL, 0, -1, -1);
  kernels.tile(SCR, rows, KT, V, n, 0, 0, -1, -1);
  kernels.finish(SCR, ROWS, rows);
  const result = new Float32Array(rows * dp + 2 * rows);
  result.set(f32.subarray(OUT, OUT + rows * dp));
  result.set(f32.subarray(STAT, STAT + 2 * rows), rows * dp);
  return result;
}

/**
 * Runs the same small tiles (head dim 64: the constant-offset score kernel; head dim 12: the generic one and the
 * 4-wide P·V tail) on both kernel builds and compares them. Undefined when they agree, else what differed.
 */
export async function relaxedSelfTest(shared: boolean): Promise<string | undefined> {
  for (const [dp, rows, n] of [
    [64, 7, 45],
    [12, 5, 64],
  ] as const) {
    const plain = await runTile('simd128', shared, dp, rows, n);
    const relaxed = await runTile('relaxed', shared, dp, rows, n);
    for (let i = 0; i < plain.length; i++) {
      const a = relaxed[i] as number;
      const b = plain[i] as number;
      if (!(Math.abs(a - b) <= SELF_TEST_TOLERANCE.atol + SELF_TEST_TOLERANCE.rtol * Math.abs(b))) {
        return `the relaxed-SIMD kernels computed ${a} where the SIMD128 ones computed ${b} (head dim ${dp}, element ${i})`;
      }
    }
  }
  return undefined;
}
