// `pnpm bench`: suite gpujs-attention. webasm and cpu modes in Node (timed with the bench harness, against the
// built package), webgl2 and webgpu in headless Chromium on SwiftShader (timed inside the page). Dense causal vs
// block-sparse at 10% of the causal blocks, same inputs, ratios from the same run.
import { fileURLToPath } from 'node:url';
import { createGpujsBackend } from '@sparseland/backend-gpujs';
import { type BenchRecord, benchSize, gflops, measure, writeSuite } from '@sparseland/bench-harness';
import { chromiumAvailable, runInChromium } from '@sparseland/browser-runner';
import type { PageRecord } from './browser-bench.js';
import { attentionBenchCases } from './cases.js';

const smoke = benchSize() === 'smoke';
const records: BenchRecord[] = [];

function withRatio(list: BenchRecord[]): BenchRecord[] {
  const dense = list.find((r) => r.case.startsWith('dense'));
  return list.map((r) => (dense && r !== dense ? { ...r, timeVsDense: r.medianMs / dense.medianMs } : r));
}

// Node: gpu.js's CPU modes. Sizes keep a full run under a minute (webasm runs ~1 GFLOP/s, cpu less).
for (const [mode, n] of [
  ['webasm', smoke ? 256 : 2048],
  ['cpu', smoke ? 128 : 1024],
] as const) {
  const backend = await createGpujsBackend({ mode });
  const modeRecords: BenchRecord[] = [];
  for (const c of attentionBenchCases(n, 1, 64)) {
    const t = await measure(() => backend.attend(c.input, { mask: c.mask }), { runs: 5, warmups: 1 });
    modeRecords.push({
      case: c.name,
      backend: 'gpujs',
      impl: mode,
      threads: 1,
      n,
      qHeads: 1,
      kvHeads: 1,
      dim: 64,
      density: c.density,
      ...t,
      gflops: gflops(c.flops, t.medianMs),
      note: 'Node, whole call: upload, kernels, readback',
    });
  }
  await backend.dispose();
  records.push(...withRatio(modeRecords));
}

// Chromium: webgl2 and webgpu on SwiftShader (software rendering: correctness and visibility, no speed target).
if (chromiumAvailable()) {
  const entry = fileURLToPath(new URL(smoke ? './browser-page-smoke.ts' : './browser-page-full.ts', import.meta.url));
  const page = (await runInChromium({ entry, timeoutMs: 600_000 })) as PageRecord[];
  for (const impl of ['webgl2', 'webgpu']) {
    const modeRecords: BenchRecord[] = page
      .filter((r) => r.impl === impl)
      .map((r) => ({
        case: r.case,
        backend: 'gpujs',
        impl,
        n: r.n,
        qHeads: r.qHeads,
        kvHeads: r.kvHeads,
        dim: r.dim,
        density: r.density,
        medianMs: r.medianMs,
        minMs: r.minMs,
        maxMs: r.maxMs,
        runs: r.runs,
        gflops: r.error ? 0 : gflops(r.flops, r.medianMs),
        note: r.error ? `not run: ${r.error}` : 'headless Chromium, SwiftShader, timed in the page',
      }));
    records.push(...withRatio(modeRecords));
  }
} else {
  records.push({ case: 'browser modes', medianMs: 0, minMs: 0, maxMs: 0, runs: 0, note: 'not run: Chromium not found' });
}

writeSuite('gpujs-attention', records);
