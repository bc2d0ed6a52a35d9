import { actualModeOf, gpu } from './gpujs.js';
import { describeAdapter, firstLine } from './webgpu-node.js';

/** gpu.js modes this backend can run, best first: `auto` takes the first that works. */
export const GPUJS_MODES = ['webgpu', 'webgl2', 'headlessgl', 'webasm', 'cpu'] as const;
export type GpujsMode = (typeof GPUJS_MODES)[number];

/** The GPU modes (the others run on the CPU). */
export const GPU_MODES: readonly GpujsMode[] = ['webgpu', 'webgl2', 'headlessgl'];

export interface ModeProbe {
  readonly mode: GpujsMode;
  readonly ok: boolean;
  /** Why the mode cannot run (absent when ok). */
  readonly reason?: string;
  /** What answered, e.g. the WebGPU adapter's name. */
  readonly detail?: string;
}

const probes = new Map<GpujsMode, Promise<ModeProbe>>();

/**
 * Probes a mode for real: the API must exist, an adapter or context must answer, and a small kernel must compile, run
 * in that very mode (gpu.js silently falls back otherwise) and return the right numbers. Cached per process.
 */
export function probeMode(mode: GpujsMode): Promise<ModeProbe> {
  let probe = probes.get(mode);
  if (!probe) {
    probe = runProbe(mode).catch((error: unknown) => ({ mode, ok: false, reason: `probe failed: ${firstLine(error)}` }));
    probes.set(mode, probe);
  }
  return probe;
}

/** Every mode's probe, best first. */
export function probeAllModes(): Promise<ModeProbe[]> {
  return Promise.all(GPUJS_MODES.map((m) => probeMode(m)));
}

async function runProbe(mode: GpujsMode): Promise<ModeProbe> {
  let detail: string | undefined;
  switch (mode) {
    case 'webgpu': {
      const adapter = await describeAdapter();
      if (!adapter.ok) return { mode, ok: false, reason: adapter.reason };
      detail = adapter.adapter;
      break;
    }
    case 'webgl2':
      if (!gpu.GPU.isWebGL2Supported) return { mode, ok: false, reason: 'no WebGL2 context (needs a browser canvas with WebGL2)' };
      break;
    case 'headlessgl':
      if (!gpu.GPU.isHeadlessGLSupported) {
        return { mode, ok: false, reason: 'headless-gl (the optional `gl` package) is not installed or did not build' };
      }
      break;
    case 'webasm':
      if (!gpu.GPU.isWebAssemblySupported) return { mode, ok: false, reason: 'WebAssembly is not available' };
      break;
    case 'cpu':
      break;
  }
  if ((mode === 'webgl2' || mode === 'headlessgl') && !gpu.GPU.isSinglePrecisionSupported) {
    return { mode, ok: false, reason: 'float32 textures are not supported, and this backend runs in fp32 only' };
  }
  const failure = await runSmokeKernel(mode);
  if (failure) return { mode, ok: false, reason: failure };
  return detail === undefined ? { mode, ok: true } : { mode, ok: true, detail };
}

/** Runs a tiny dot-product kernel; resolves to undefined when it ran in `mode` with exact results. */
async function runSmokeKernel(mode: GpujsMode): Promise<string | undefined> {
  const instance = new gpu.GPU({ mode });
  try {
    const kernel = instance.createKernel(
      function (this: { thread: { x: number; y: number } }, a: number[], n: number) {
        let s = 0;
        for (let c = 0; c < n; c++) s += a[this.thread.y * n + c]! * (this.thread.x + 1);
        return s;
      },
      { output: [3, 2], precision: 'single', dynamicArguments: true, loopMaxIterations: 64 },
    );
    const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const rows = (await kernel(data, 4)) as ArrayLike<ArrayLike<number>>;
    const ran = actualModeOf(kernel, mode);
    if (ran !== mode) return `gpu.js ran the probe kernel in ${ran} instead (${kernel.kernel?.fallbackReason ?? 'no reason given'})`;
    const want = [
      [10, 20, 30],
      [26, 52, 78],
    ];
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        const got = rows[y]?.[x];
        if (got !== want[y]?.[x]) return `the probe kernel returned ${String(got)} at [${y}][${x}], expected ${want[y]?.[x]}`;
      }
    }
    return undefined;
  } catch (error) {
    return `the probe kernel failed: ${firstLine(error)}`;
  } finally {
    await instance.destroy();
  }
}
