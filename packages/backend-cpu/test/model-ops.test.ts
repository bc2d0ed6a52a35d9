import { attention, randomHeadTensor, referenceDecode, slicePositions } from '@sparseland/core';
import { createRng, referenceLinear } from '@sparseland/core/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { Executor } from '../src/executor.js';
import { type CpuBackend, createCpuBackend } from '../src/index.js';
import { Arena } from '../src/memory.js';
import { createKvStoreOps } from '../src/ops/kv-store.js';
import { createLinearOps } from '../src/ops/linear.js';
import { prepareScoreInput } from '../src/ops/prepared-input.js';
import { scores } from '../src/ops/scores.js';

// What the conformance kit cannot see: prepared weights and KV stores live in an arena below every call's layout,
// so they must survive the calls in between, the memory growing (the TypeScript build replaces its buffer), and
// each other being freed.

const backends: CpuBackend[] = [];
afterAll(async () => {
  for (const b of backends) await b.dispose();
});

function seeded(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe('Arena', () => {
  it('reuses freed regions first-fit, merges neighbours and lowers the top when the highest region goes', () => {
    const arena = new Arena();
    const a = arena.alloc(10);
    const b = arena.alloc(100);
    const c = arena.alloc(16);
    expect([a, b - a, c - b]).toEqual([64, 16, 112]);
    expect(arena.top).toBe(c + 16);
    arena.free(b, 100);
    expect(arena.alloc(30)).toBe(b);
    expect(arena.used).toBe(16 + 32 + 16);
    arena.free(a, 10);
    arena.free(b, 30);
    // a, b's remainder and the 30 floats just freed merge into one hole below c.
    expect(arena.alloc(128)).toBe(a);
    arena.free(a, 128);
    arena.free(c, 16);
    expect(arena.top).toBe(64);
    expect(arena.used).toBe(0);
  });
});

describe('dispose() gives the arena back', () => {
  it('for prepared weights and KV stores (after the calls before it), and a second dispose is harmless', async () => {
    const exec = await Executor.create({ impl: 'wasm', simd: 'simd128', threads: 1, minParallelWork: 0, shared: true, node: true });
    const { prepareLinear } = createLinearOps(exec, () => {});
    const { createKvStore } = createKvStoreOps(exec, () => {});
    const linear = await prepareLinear(seeded(40 * 24, 1), { outDim: 40, inDim: 24 });
    const store = await createKvStore({ kvHeads: 2, dim: 16 });
    await store.append(
      randomHeadTensor({ heads: 2, length: 130, dim: 16, seed: 2 }),
      randomHeadTensor({ heads: 2, length: 130, dim: 16, seed: 3 }),
    );
    // 40 outputs pad to 5 panels of 8 × 24 inputs; each head holds 192 slots (130 rounded up to 64) × 16 for keys and values.
    expect(exec.arena.used).toBe(5 * 8 * 24 + 2 * 2 * 192 * 16);
    const pending = linear.run(seeded(24, 4), 1);
    linear.dispose();
    linear.dispose();
    store.dispose();
    store.dispose();
    expect((await pending).length).toBe(40);
    await exec.exclusive(async () => {});
    expect(exec.arena.used).toBe(0);
    expect(exec.arena.top).toBe(64);
    await exec.dispose();
  });
});

describe('prepared score inputs (Backend.prepareScoreInput)', () => {
  it('keep one copy of the queries and of each key layout in the arena, replace the queries when the rows change, and give them back on release', async () => {
    const exec = await Executor.create({ impl: 'wasm', simd: 'simd128', threads: 1, minParallelWork: 0, shared: true, node: true });
    const input = {
      q: randomHeadTensor({ heads: 2, length: 50, dim: 16, seed: 5 }),
      k: randomHeadTensor({ heads: 1, length: 90, dim: 16, seed: 6 }),
    };
    const prepared = prepareScoreInput(exec, input);
    const listed = { rows: Int32Array.of(1, 7, 30), keys: Int32Array.of(0, 4, 9, 60, 89), output: true };
    const first = await scores(exec, prepared, listed);
    const held = exec.arena.used;
    // Query rows (2 heads × 3 rows of 16, plus slack) and row-major keys (90 × 16, plus slack) stay in the arena.
    expect(held).toBeGreaterThanOrEqual(2 * 3 * 16 + 90 * 16);
    const again = await scores(exec, prepared, listed);
    expect(exec.arena.used).toBe(held);
    expect(again.scores).toEqual(first.scores);
    expect((await scores(exec, input, listed)).scores).toEqual(first.scores);
    // Other rows replace the query copy; a range from key 0 reads packed tiles, a second key layout.
    const other = { rows: Int32Array.of(2, 3, 4, 5, 49), keys: { start: 0, count: 90 }, output: true };
    expect((await scores(exec, prepared, other)).scores).toEqual((await scores(exec, input, other)).scores);
    expect(exec.arena.used).toBeGreaterThan(held);
    prepared.release();
    prepared.release();
    await exec.exclusive(async () => {});
    expect(exec.arena.used).toBe(0);
    // A released input is a plain one again.
    expect((await scores(exec, prepared, listed)).scores).toEqual(first.scores);
    expect(exec.arena.used).toBe(0);
    await exec.dispose();
  });
});

describe.each([
  { impl: 'ts', relaxedSimd: false },
  { impl: 'wasm', relaxedSimd: false },
  { impl: 'wasm', relaxedSimd: true },
] as const)('prepared weights and KV stores ($impl, relaxed $relaxedSimd)', ({ impl, relaxedSimd }) => {
  it('stay intact while other calls run, the memory grows and other regions are freed', async () => {
    const backend = await createCpuBackend({ impl, relaxedSimd, threads: 2, minParallelWork: 0 });
    backends.push(backend);
    const w = seeded(40 * 24, 1);
    const x = seeded(9 * 24, 2);
    const want = new Float32Array(9 * 40);
    referenceLinear(want, x, w, 9, 24, 40);
    const first = await backend.prepareLinear(w, { outDim: 40, inDim: 24 });
    const dropped = await backend.prepareLinear(seeded(64 * 64, 3), { outDim: 64, inDim: 64 });
    const store = await backend.createKvStore({ kvHeads: 2, dim: 16 });
    const k = randomHeadTensor({ heads: 2, length: 90, dim: 16, seed: 4 });
    const v = randomHeadTensor({ heads: 2, length: 90, dim: 16, seed: 5 });
    const q = randomHeadTensor({ heads: 4, length: 1, dim: 16, seed: 6 });
    await store.append(slicePositions(k, 0, 50), slicePositions(v, 0, 50));
    const before = await first.run(x, 9);
    dropped.dispose();
    // A call far larger than anything so far: the memory grows (a new buffer for the TypeScript build).
    const big = (seed: number) => randomHeadTensor({ heads: 2, length: 3000, dim: 64, seed });
    await attention({ q: big(7), k: big(8), v: big(9) }, { backend });
    await store.append(slicePositions(k, 50, 90), slicePositions(v, 50, 90));
    // The freed region is reused, and must not overlap the live ones.
    const reuse = await backend.prepareLinear(seeded(64 * 64, 10), { outDim: 64, inDim: 64 });
    expect(await first.run(x, 9)).toEqual(before);
    for (let i = 0; i < want.length; i++) expect(Math.abs((before[i] as number) - (want[i] as number))).toBeLessThan(1e-4);
    const got = await store.decode(q);
    const ref = referenceDecode({ q, k, v });
    for (let i = 0; i < ref.output.data.length; i++)
      expect(Math.abs((got.output.data[i] as number) - (ref.output.data[i] as number))).toBeLessThan(1e-5);
    reuse.dispose();
    first.dispose();
    store.dispose();
    await expect(first.run(x, 9)).rejects.toThrow(/disposed/);
    await expect(store.decode(q)).rejects.toThrow(/disposed/);
  });

  it('refuses use after the backend is disposed', async () => {
    const backend = await createCpuBackend({ impl, relaxedSimd, threads: 1 });
    const linear = await backend.prepareLinear(seeded(8, 1), { outDim: 2, inDim: 4 });
    const store = await backend.createKvStore({ kvHeads: 1, dim: 4 });
    await backend.dispose();
    await expect(linear.run(seeded(4, 2), 1)).rejects.toThrow(/after dispose/);
    await expect(
      store.append(randomHeadTensor({ heads: 1, length: 1, dim: 4, seed: 1 }), randomHeadTensor({ heads: 1, length: 1, dim: 4, seed: 2 })),
    ).rejects.toThrow(/after dispose/);
    await expect(backend.prepareLinear(seeded(8, 1), { outDim: 2, inDim: 4 })).rejects.toThrow(/after dispose/);
  });
});
