// --backend: auto, a backend, or backend:variant (gpujs:webgpu, gpujs:webasm, cpu:ts, ...), and `list` shows them all.

import { cpuBackend } from '@sparseland/backend-cpu';
import { GPU_MODES, gpujsBackend, probeMode } from '@sparseland/backend-gpujs';
import { createRegistry, referenceBackend } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { backendChoice, backendValues, chooseBackend } from '../src/backend.js';
import { runCli } from './run-cli.js';

const registry = createRegistry({ plugins: [referenceBackend, cpuBackend, gpujsBackend] });

describe('--backend', () => {
  it('offers each backend and its variants: the values of its first enum parameter', () => {
    expect(backendChoice(gpujsBackend)).toEqual({
      name: 'gpujs',
      param: 'mode',
      variants: ['webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'],
    });
    expect(backendChoice(cpuBackend)).toEqual({ name: 'cpu', param: 'impl', variants: ['wasm', 'ts'] });
    expect(backendChoice(referenceBackend)).toEqual({ name: 'reference', variants: [] });
    expect(backendValues(registry)).toEqual([
      'auto',
      'reference',
      'cpu',
      'cpu:wasm',
      'cpu:ts',
      'gpujs',
      'gpujs:webgpu',
      'gpujs:webgl2',
      'gpujs:headlessgl',
      'gpujs:webasm',
      'gpujs:cpu',
    ]);
  });

  it('creates the named variant, and says what is allowed for a bad one', async () => {
    const webasm = await chooseBackend(registry, 'gpujs:webasm');
    expect([webasm.name, webasm.impl]).toEqual(['gpujs', 'webasm']);
    await webasm.dispose();
    const ts = await chooseBackend(registry, 'cpu:ts');
    expect([ts.name, ts.impl]).toEqual(['cpu', 'ts']);
    await ts.dispose();
    await expect(chooseBackend(registry, 'gpujs:metal')).rejects.toThrow(
      /--backend gpujs:metal: expected one of gpujs:webgpu, gpujs:webgl2, gpujs:headlessgl, gpujs:webasm, gpujs:cpu/,
    );
    await expect(chooseBackend(registry, 'reference:fast')).rejects.toThrow(/the reference backend has no variants/);
    await expect(chooseBackend(registry, 'gpujs:webasm:x')).rejects.toThrow(/expected one of/);
    await expect(chooseBackend(registry, 'gpu.js')).rejects.toThrow(/E_UNKNOWN_PLUGIN.*Did you mean "gpujs"/);
  });

  it('plain gpujs runs where a GPU mode answers, else is unavailable (exit 3) and names the variants that run anywhere', async () => {
    const gpu = (await Promise.all(GPU_MODES.map((m) => probeMode(m)))).some((p) => p.ok);
    const run = runCli(['eval', '--workload', 'synthetic:256', '--methods', 'sliding-window', '--backend', 'gpujs', '--json']);
    if (gpu) {
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout).eval.backend.name).toBe('gpujs');
    } else {
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(
        /E_BACKEND_UNAVAILABLE.*the gpujs backend says it cannot run here; try --backend auto or one of .*gpujs:webasm/,
      );
    }
  });

  it('eval runs on gpujs:webasm with the same masks as on cpu, and list shows every value', () => {
    const args = ['eval', '--workload', 'synthetic:256', '--methods', 'sliding-window,block-topk', '--blocks', '16x16', '--json'];
    const gpujs = runCli([...args, '--backend', 'gpujs:webasm']);
    const cpu = runCli([...args, '--backend', 'cpu']);
    expect(gpujs.code).toBe(0);
    const a = JSON.parse(gpujs.stdout).eval;
    const b = JSON.parse(cpu.stdout).eval;
    expect(a.backend).toEqual({ name: 'gpujs', impl: 'webasm' });
    expect(a.methods).toEqual(b.methods);
    expect(a.results.map((r: { summary: { density: number } }) => r.summary.density)).toEqual(
      b.results.map((r: { summary: { density: number } }) => r.summary.density),
    );
    const list = runCli(['list', '--kind', 'backend']);
    expect(list.stdout).toMatch(/backend\s+gpujs\s+Block-sparse/);
    expect(list.stdout).toMatch(
      /--backend accepts: auto, reference, cpu, cpu:wasm, cpu:ts, gpujs, gpujs:webgpu, .*gpujs:webasm, gpujs:cpu/,
    );
    const json = JSON.parse(runCli(['list', '--json']).stdout);
    expect(json.backendValues).toContain('gpujs:webgpu');
  });
});
