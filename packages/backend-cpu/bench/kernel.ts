// `pnpm bench:kernel`: the dense causal kernel alone (N = 8192, 8 query heads, GQA 8:2, d = 64) on each WebAssembly
// build and thread count, as GFLOP/s (2·N²·d per head). A tuning aid; the README's numbers come from `pnpm bench`.
// KERNEL_N, KERNEL_KV (kv heads) and KERNEL_RUNS override the shape and the run count.

import { attentionFlops, densePairs } from '@sparseland/core';
import { createCpuBackend } from '../src/index.js';
import { DIM, inputs, shapeOf } from './workloads.js';

const n = Number(process.env['KERNEL_N'] ?? 8192);
const kv = Number(process.env['KERNEL_KV'] ?? 2);
const runs = Number(process.env['KERNEL_RUNS'] ?? 5);
const x = inputs(n, 8, kv);
const flops = attentionFlops(densePairs(shapeOf(n, 8), true), DIM);
const configs = (process.env['KERNEL_CONFIGS'] ?? 'relaxed/1,simd128/1,relaxed/2,simd128/2').split(',');
for (const config of configs) {
  const [simd, threads] = config.split('/');
  const b = await createCpuBackend({ impl: 'wasm', threads: Number(threads), relaxedSimd: simd === 'relaxed' });
  await b.attend(x);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await b.attend(x);
    times.push(performance.now() - t0);
  }
  times.sort((a, c) => a - c);
  const median = times[Math.floor(runs / 2)] as number;
  console.log(
    `${b.simd.padEnd(8)} ×${b.threads}  N=${n} 8:${kv}  median ${median.toFixed(0)} ms  min ${(times[0] as number).toFixed(0)} ms  ${(flops / median / 1e6).toFixed(1)} GFLOP/s`,
  );
  await b.dispose();
}
