// The GPU check: every conformance case and the attention benchmark in one gpu.js mode (webgpu by default), with
// GFLOP/s and the issue's targets. Bundled by scripts/gpu-check.mjs into .gpu/gpu-check.mjs (gpu.js and webgpu stay
// external), so it runs with a bare `node` where the project is not installed, e.g. on the lent GPU machine.
import { writeFileSync } from 'node:fs';
import { allBackendCases, FP32_TOLERANCE, runCases, type Tolerance } from '@sparseland/conformance/cases';
import { attentionBenchCases } from '../bench/cases.js';
import { modeConformance } from '../src/conformance.js';
import { createGpujsBackend, type GpujsMode } from '../src/index.js';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [key, value] = a.replace(/^--/, '').split('=');
    return [key as string, value ?? 'true'];
  }),
);
const mode = (args.get('mode') ?? 'webgpu') as GpujsMode;
const sizes = (args.get('sizes') ?? '2048,4096,8192').split(',').map(Number);
const runs = Number(args.get('runs') ?? 5);
const out = args.get('out');

const median = (xs: number[]): number => xs.slice().sort((a, b) => a - b)[xs.length >> 1] as number;

async function main(): Promise<number> {
  const t0 = performance.now();
  let backend: Awaited<ReturnType<typeof createGpujsBackend>>;
  try {
    backend = await createGpujsBackend({ mode });
  } catch (error) {
    console.log(`gpu-check: mode ${mode} cannot run: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  console.log(
    `gpu-check: gpujs mode ${backend.impl}${backend.detail ? ` on ${backend.detail}` : ''} (backend ready in ${(performance.now() - t0).toFixed(0)} ms)`,
  );

  const { tolerance, filters } = modeConformance(mode);
  const tol: Tolerance = { ...FP32_TOLERANCE, ...tolerance };
  const conformance = await runCases(allBackendCases(), (c) => c.run(backend, tol), filters);
  for (const c of conformance) if (c.status === 'fail') console.log(`  FAIL ${c.name}: ${c.detail}`);
  const failed = conformance.filter((c) => c.status === 'fail').length;
  console.log(`conformance (${mode}): ${conformance.filter((c) => c.status === 'pass').length} passed, ${failed} failed`);

  const bench: Record<string, number | string>[] = [];
  for (const n of sizes) {
    let denseMs = Number.NaN;
    for (const c of attentionBenchCases(n, 1, 64)) {
      await backend.attend(c.input, { mask: c.mask });
      const samples: number[] = [];
      for (let r = 0; r < runs; r++) {
        const s = performance.now();
        await backend.attend(c.input, { mask: c.mask });
        samples.push(performance.now() - s);
      }
      const ms = median(samples);
      if (c.name.startsWith('dense')) denseMs = ms;
      const gflops = c.flops / ms / 1e6;
      const ratio = c.name.startsWith('dense') ? 1 : ms / denseMs;
      bench.push({ case: c.name, n, dim: 64, density: c.density, medianMs: ms, minMs: Math.min(...samples), gflops, timeVsDense: ratio });
      console.log(
        `  ${c.name.padEnd(44)} ${ms.toFixed(2).padStart(9)} ms  ${gflops.toFixed(1).padStart(8)} GFLOP/s  density ${c.density.toFixed(3)}  time vs dense ${ratio.toFixed(3)}`,
      );
    }
  }
  const dense8k = bench.find((b) => b['n'] === 8192 && String(b['case']).startsWith('dense'));
  const sparse8k = bench.find((b) => b['n'] === 8192 && String(b['case']).startsWith('block-sparse'));
  if (dense8k && sparse8k) {
    const tflops = (dense8k['gflops'] as number) / 1000;
    const ratio = sparse8k['timeVsDense'] as number;
    console.log(`target dense causal N=8K d=64 >= 5 TFLOP/s: ${tflops.toFixed(2)} TFLOP/s, ${tflops >= 5 ? 'met' : 'missed'}`);
    console.log(`target block-sparse 10% <= 0.2x dense time: ${ratio.toFixed(3)}x, ${ratio <= 0.2 ? 'met' : 'missed'}`);
  }
  console.log(`fallbacks: ${JSON.stringify(backend.fallbacks())}`);
  await backend.dispose();
  const report = { mode, detail: backend.detail, node: process.version, conformance, bench, seconds: (performance.now() - t0) / 1000 };
  if (out) writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`${conformance.filter((c) => c.status === 'pass').length} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

process.exitCode = await main();
// Dawn keeps the event loop alive; the check is done.
process.exit();
