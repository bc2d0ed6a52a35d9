import { FP32_TOLERANCE } from '@sparseland/conformance/cases';
import { attention, createRegistry, isSparselandError, randomHeadTensor, referenceAttention } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { type CpuBackend, cpuBackend, createCpuBackend } from '../src/index.js';
import { relaxedSelfTest, SELF_TEST_TOLERANCE } from '../src/wasm/self-test.js';

const input = (n: number, seed = 1) => ({
  q: randomHeadTensor({ heads: 4, length: n, dim: 8, seed }),
  k: randomHeadTensor({ heads: 2, length: n, dim: 8, seed: seed + 1 }),
  v: randomHeadTensor({ heads: 2, length: n, dim: 8, seed: seed + 2 }),
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

async function rejectsWith(p: Promise<unknown> | (() => unknown), code: string, text: RegExp): Promise<void> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    expect(isSparselandError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    expect(String((error as Error).message)).toMatch(text);
    return;
  }
  throw new Error(`expected a ${code} error`);
}

describe('options and errors', () => {
  it('bad options say what was expected', async () => {
    await rejectsWith(
      createCpuBackend({ impl: 'gpu' as never }),
      'E_PARAMS',
      /impl: Invalid option: expected one of "auto"\|"wasm"\|"ts" \(got "gpu"\)/,
    );
    await rejectsWith(createCpuBackend({ threads: 0 }), 'E_PARAMS', /threads: Too small: expected number to be >=1 \(got 0\)/);
    await rejectsWith(cpuBackend.create({ impl: 'fast' } as never), 'E_PARAMS', /impl/);
  });

  it('refuses more than MAX_THREADS workers and misspelt options before starting anything', async () => {
    await rejectsWith(createCpuBackend({ threads: 1000 }), 'E_PARAMS', /threads: Too big: expected number to be <=64 \(got 1000\)/);
    await rejectsWith(createCpuBackend({ thread: 2 } as never), 'E_PARAMS', /Unrecognized key: "thread"/);
    await rejectsWith(createCpuBackend({ threads: 2.5 }), 'E_PARAMS', /threads/);
  });

  it('auto picks wasm with relaxed SIMD here and reports the thread count; the plugin probes for real', async () => {
    const b = await createCpuBackend({ threads: 1 });
    expect(b.name).toBe('cpu');
    expect(b.impl).toBe('wasm');
    expect(b.simd).toBe('relaxed');
    expect(b.threads).toBe(1);
    await b.dispose();
    expect(await cpuBackend.isSupported()).toBe(true);
    const fromPlugin = await cpuBackend.create({ impl: 'ts', threads: 2 });
    expect(fromPlugin.impl).toBe('ts');
    expect((fromPlugin as CpuBackend).simd).toBe('none');
    await fromPlugin.dispose();
    const plain = await cpuBackend.create({ relaxedSimd: false, threads: 1 });
    expect((plain as CpuBackend).simd).toBe('simd128');
    await plain.dispose();
  });

  it('relaxedSimd: false runs the SIMD128 build, true requires relaxed SIMD, and bad values are refused', async () => {
    const plain = await createCpuBackend({ impl: 'wasm', relaxedSimd: false, threads: 2 });
    expect([plain.impl, plain.simd]).toEqual(['wasm', 'simd128']);
    await plain.dispose();
    const relaxed = await createCpuBackend({ relaxedSimd: true, threads: 2 });
    expect([relaxed.impl, relaxed.simd]).toEqual(['wasm', 'relaxed']);
    await relaxed.dispose();
    await rejectsWith(createCpuBackend({ impl: 'ts', relaxedSimd: true }), 'E_PARAMS', /relaxedSimd: true needs the WebAssembly kernels/);
    await rejectsWith(
      createCpuBackend({ relaxedSimd: 'yes' as never }),
      'E_PARAMS',
      /relaxedSimd: Invalid input: expected boolean, received string \(got "yes"\)/,
    );
    await rejectsWith(cpuBackend.create({ relaxedSimd: 1 } as never), 'E_PARAMS', /relaxedSimd/);
  });

  it('the relaxed start-up self-test passes here, with the conformance kit fp32 output tolerance', async () => {
    expect(SELF_TEST_TOLERANCE).toEqual({ atol: FP32_TOLERANCE.atol, rtol: FP32_TOLERANCE.rtol });
    expect(await relaxedSelfTest(true)).toBeUndefined();
    expect(await relaxedSelfTest(false)).toBeUndefined();
  });

  it('a disposed backend refuses work', async () => {
    const b = await createCpuBackend({ impl: 'ts', threads: 1 });
    await b.dispose();
    await rejectsWith(() => b.attend(input(4)), 'E_BACKEND_UNAVAILABLE', /after dispose/);
  });

  it('bad inputs are rejected at the boundary', async () => {
    const b = await createCpuBackend({ impl: 'wasm', threads: 1 });
    const x = input(10);
    await rejectsWith(b.attend({ ...x, k: { ...x.k, dim: 7 } }), 'E_SHAPE', /HeadTensor/);
    await rejectsWith(b.quantizedScores(x, { bits: 3 as never }), 'E_PARAMS', /bits must be 8 or 4, got 3/);
    await rejectsWith(b.pooledScores(x, { blockQ: 0, blockK: 4 }), 'E_PARAMS', /blockQ must be an integer >= 1, got 0/);
    await rejectsWith(
      b.pooledScores(x, { blockQ: 4, blockK: 4, qPool: 'median' as never }),
      'E_PARAMS',
      /qPool must be one of mean, max, min/,
    );
    await rejectsWith(b.decode(x, { selection: {} as never }), 'E_SHAPE', /TokenSelection/);
    await b.dispose();
  });
});

describe('behaviour', () => {
  it('concurrent calls are serialised and each gets its own result', async () => {
    const b = await createCpuBackend({ impl: 'wasm', threads: 2, minParallelWork: 0 });
    const xs = [input(33, 1), input(130, 2), input(7, 3), input(300, 4)];
    const results = await Promise.all(xs.map((x) => b.attend(x)));
    xs.forEach((x, i) => {
      expect(maxDiff(results[i]!.output.data, referenceAttention(x).output.data)).toBeLessThan(1e-5);
    });
    await b.dispose();
  });

  it('memory grows for a long call and is reused by a short one', async () => {
    for (const impl of ['ts', 'wasm'] as const) {
      const b = await createCpuBackend({ impl, threads: 2, minParallelWork: 0 });
      for (const n of [16, 3000, 16]) {
        const x = input(n, n);
        const got = await b.attend(x, { mask: undefined });
        const rows = [0, n - 1];
        const want = referenceAttention(x);
        for (const r of rows) for (let c = 0; c < 8; c++) expect(got.output.data[r * 8 + c]).toBeCloseTo(want.output.data[r * 8 + c]!, 5);
      }
      await b.dispose();
    }
  });

  it("the backend's own tensors stay valid when the memory grows, and a reused region starts at zero", async () => {
    for (const impl of ['ts', 'wasm'] as const) {
      const b = await createCpuBackend({ impl, threads: 2, minParallelWork: 0 });
      const x = input(40, 9);
      const [q, k, v, out] = await Promise.all([
        b.allocateTensor(4, 40, 8),
        b.allocateTensor(2, 40, 8),
        b.allocateTensor(2, 40, 8),
        b.allocateTensor(4, 40, 8),
      ]);
      q!.tensor.data.set(x.q.data);
      k!.tensor.data.set(x.k.data);
      v!.tensor.data.set(x.v.data);
      // A long call grows the memory (a new buffer object) after the tensors were made.
      await b.attend(input(4000, 3));
      const got = await b.attend({ q: q!.tensor, k: k!.tensor, v: v!.tensor }, { out: out!.tensor });
      expect(got.output).toBe(out!.tensor);
      expect(maxDiff(out!.tensor.data, referenceAttention(x).output.data)).toBeLessThan(1e-5);
      out!.release();
      out!.release();
      const again = await b.allocateTensor(4, 40, 8);
      expect(again.tensor.data.every((value) => value === 0)).toBe(true);
      for (const t of [q, k, v, again]) t!.release();
      await rejectsWith(b.allocateTensor(0, 4, 8), 'E_PARAMS', /heads/);
      await rejectsWith(b.allocateTensor(1, 1 << 20, 2048), 'E_SHAPE', /HeadTensor/);
      await b.dispose();
    }
  });

  it('a ScoreMod runs on the calling thread even with workers', async () => {
    const b = await createCpuBackend({ impl: 'wasm', threads: 2, minParallelWork: 0 });
    const x = input(50);
    const scoreMod = (s: number, h: number, q: number, k: number) => s + Math.sin(h + q * 0.1 - k * 0.2);
    const got = await b.attend(x, { scoreMod });
    expect(maxDiff(got.output.data, referenceAttention(x, { scoreMod }).output.data)).toBeLessThan(2e-5);
    await b.dispose();
  });

  it('runs under core attention() through a registry', async () => {
    const registry = createRegistry({ plugins: [cpuBackend] });
    expect(registry.get('backend', 'cpu')).toBe(cpuBackend);
    const backend = await cpuBackend.create({ threads: 1 });
    const x = input(40);
    const result = await attention(x, { backend });
    expect(maxDiff(result.output.data, referenceAttention(x).output.data)).toBeLessThan(1e-5);
    await backend.dispose();
  });
});
