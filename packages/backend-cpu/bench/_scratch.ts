import { attentionFlops, countKeptPairs, createHeadTensor, densePairs } from '@sparseland/core';
import { createCpuBackend } from '../src/index.js';
import { DIM, inputs, keptPairs, randomCausalBlocks, shapeOf, verticalSlash } from './workloads.js';
const n = Number(process.env['N'] ?? 16384);
const threads = Number(process.env['T'] ?? 2);
const runs = Number(process.env['RUNS'] ?? 5);
const which = (process.env['W'] ?? 'dense,bs,vs').split(',');
const x = inputs(n, 8, 2, 13);
const b = await createCpuBackend({ impl: 'wasm', threads, relaxedSimd: true });
const cases: Record<string, any> = {
  dense: undefined,
  bs: { blocks: randomCausalBlocks(n, 8, 0.1, 11) },
  vs: verticalSlash(n, Math.round(n / 40), [1, 2, 3, 4, 16, 64], 17),
};
for (const w of which) {
  const mask = cases[w];
  const pairs = mask ? (w==='bs'? countKeptPairs(mask, shapeOf(n,8), {causal:true}).kept : keptPairs(mask, n, 8)) : densePairs(shapeOf(n, 8), true);
  const out = createHeadTensor(8, n, 64);
  await b.attend(x, { mask, out });
  const times: number[] = [];
  for (let r = 0; r < runs; r++) { const t0 = performance.now(); await b.attend(x, { mask, out }); times.push(performance.now() - t0); }
  times.sort((a, c) => a - c);
  const med = times[runs >> 1]!;
  console.log(`${w} N=${n} T=${threads} density ${(pairs / densePairs(shapeOf(n, 8), true)).toFixed(4)} median ${med.toFixed(0)} ms min ${times[0]!.toFixed(0)} ${(attentionFlops(pairs, DIM) / med / 1e6).toFixed(1)} GFLOP/s`);
}
await b.dispose();
