// Runs in headless Chromium (bundled by @sparseland/browser-runner): the attention benchmark in webgl2 and webgpu
// mode, timed inside the page with performance.now() (median of the timed runs after warm-ups), returned as records.
import { createGpujsBackend, type GpujsMode } from '../src/index.js';
import { attentionBenchCases } from './cases.js';

export interface PageRecord {
  readonly case: string;
  readonly impl: string;
  readonly n: number;
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly dim: number;
  readonly density: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly runs: number;
  readonly flops: number;
  readonly error?: string;
}

async function time(
  fn: () => Promise<unknown>,
  runs: number,
  warmups: number,
): Promise<{ medianMs: number; minMs: number; maxMs: number }> {
  for (let w = 0; w < warmups; w++) await fn();
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: samples[samples.length >> 1] as number, minMs: samples[0] as number, maxMs: samples[samples.length - 1] as number };
}

export async function browserBench(n: number, runs: number): Promise<PageRecord[]> {
  const records: PageRecord[] = [];
  const cases = attentionBenchCases(n, 1, 64);
  for (const mode of ['webgl2', 'webgpu'] as GpujsMode[]) {
    let backend: Awaited<ReturnType<typeof createGpujsBackend>>;
    try {
      backend = await createGpujsBackend({ mode });
    } catch (error) {
      for (const c of cases) records.push({ ...base(c, mode), medianMs: 0, minMs: 0, maxMs: 0, runs: 0, error: String(error) });
      continue;
    }
    for (const c of cases) {
      const t = await time(() => backend.attend(c.input, { mask: c.mask }), runs, 1);
      records.push({ ...base(c, mode), ...t, runs });
    }
    await backend.dispose();
  }
  return records;
}

function base(c: ReturnType<typeof attentionBenchCases>[number], impl: string) {
  return { case: c.name, impl, n: c.n, qHeads: c.heads, kvHeads: c.heads, dim: c.dim, density: c.density, flops: c.flops };
}
