import { createRegistry, isSparselandError, randomHeadTensor } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { chooseMode, createGpujsBackend, GPU_MODES, GPUJS_MODES, gpujsBackend, probeAllModes, probeMode } from '../src/index.js';

describe('mode probing and selection', () => {
  it('probes every mode for real and says why a mode cannot run', async () => {
    const probes = await probeAllModes();
    expect(probes.map((p) => p.mode)).toEqual([...GPUJS_MODES]);
    for (const p of probes) {
      if (p.ok) expect(p.reason).toBeUndefined();
      else expect(p.reason?.length ?? 0).toBeGreaterThan(10);
    }
    // WebAssembly and plain JS run in every Node this project supports.
    expect(probes.find((p) => p.mode === 'webasm')?.ok).toBe(true);
    expect(probes.find((p) => p.mode === 'cpu')?.ok).toBe(true);
    // There is no browser canvas in Node.
    expect(probes.find((p) => p.mode === 'webgl2')?.ok).toBe(false);
  });

  it('auto picks the first mode that answers and lists the better ones it skipped, with their reasons', async () => {
    const probes = await probeAllModes();
    const first = probes.find((p) => p.ok);
    const backend = await createGpujsBackend({ mode: 'auto' });
    try {
      expect(backend.name).toBe('gpujs');
      expect(backend.impl).toBe(first?.mode);
      expect(backend.skipped.map((p) => p.mode)).toEqual(probes.slice(0, probes.indexOf(first!)).map((p) => p.mode));
      expect(backend.skipped.every((p) => !p.ok && p.reason)).toBe(true);
    } finally {
      await backend.dispose();
    }
  });

  it('an explicitly requested mode that cannot run throws E_BACKEND_UNAVAILABLE naming the reason', async () => {
    const unavailable = (await probeAllModes()).filter((p) => !p.ok);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const probe of unavailable) {
      const error = await createGpujsBackend({ mode: probe.mode }).catch((e: unknown) => e);
      expect(isSparselandError(error, 'E_BACKEND_UNAVAILABLE'), String(error)).toBe(true);
      expect(String((error as Error).message)).toContain(`gpujs mode ${probe.mode} cannot run here: ${probe.reason}`);
    }
  });

  it('an explicit mode that runs reports itself as impl', async () => {
    for (const mode of ['webasm', 'cpu'] as const) {
      const { probe, skipped } = await chooseMode(mode);
      expect([probe.mode, skipped]).toEqual([mode, []]);
      const backend = await createGpujsBackend({ mode });
      expect(backend.impl).toBe(mode);
      await backend.dispose();
    }
  });

  it('the plugin validates its params, is supported only where a GPU mode answers, and creates through the registry', async () => {
    expect(gpujsBackend.kind).toBe('backend');
    expect(gpujsBackend.name).toBe('gpujs');
    expect(gpujsBackend.parseParams({})).toEqual({ mode: 'auto', kernelCacheLimit: 64 });
    expect(() => gpujsBackend.parseParams({ mode: 'opengl' })).toThrow(/mode/);
    expect(() => gpujsBackend.parseParams({ modes: 'cpu' })).toThrow(/modes/);
    // createGpujsBackend itself refuses misspelt options and sizes past their limits, before probing anything.
    await expect(createGpujsBackend({ modee: 'cpu' } as never)).rejects.toThrow(/E_PARAMS.*Unrecognized key: "modee"/);
    await expect(createGpujsBackend({ mode: 'cpu', kernelCacheLimit: 1e9 })).rejects.toThrow(/E_PARAMS.*kernelCacheLimit: Too big/);
    const gpuAnswers = (await Promise.all(GPU_MODES.map((m) => probeMode(m)))).some((p) => p.ok);
    expect(await gpujsBackend.isSupported()).toBe(gpuAnswers);
    const registry = createRegistry({ plugins: [gpujsBackend] });
    const backend = await registry.get('backend', 'gpujs').create({ mode: 'cpu' });
    expect([backend.name, backend.impl]).toEqual(['gpujs', 'cpu']);
    await backend.dispose();
  });

  it('a disposed backend refuses work with E_BACKEND_UNAVAILABLE', async () => {
    const backend = await createGpujsBackend({ mode: 'cpu' });
    await backend.dispose();
    const q = randomHeadTensor({ heads: 1, length: 4, dim: 4, seed: 1 });
    await expect(backend.attend({ q, k: q, v: q })).rejects.toThrow(/after dispose/);
  });

  it('bad input gets a SparselandError at the boundary', async () => {
    const backend = await createGpujsBackend({ mode: 'cpu' });
    const q = randomHeadTensor({ heads: 2, length: 4, dim: 4, seed: 1 });
    const k = randomHeadTensor({ heads: 2, length: 4, dim: 8, seed: 2 });
    await expect(backend.attend({ q, k, v: k })).rejects.toSatisfy((e: unknown) => isSparselandError(e, 'E_SHAPE'));
    await expect(backend.pooledScores({ q, k: q }, { blockQ: 0, blockK: 4 })).rejects.toSatisfy((e: unknown) =>
      isSparselandError(e, 'E_PARAMS'),
    );
    await expect(backend.quantizedScores({ q, k: q }, { bits: 3 as 8 })).rejects.toSatisfy((e: unknown) =>
      isSparselandError(e, 'E_PARAMS'),
    );
    await backend.dispose();
  });
});
