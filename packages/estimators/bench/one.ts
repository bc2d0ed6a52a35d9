// Times one estimator's mask build at N on the cpu backend, on the bench's input (the planted synthetic workload, 8
// query / 2 kv heads, dim 64, defaults, 64×64 blocks): `tsx --conditions=@sparseland/source bench/one.ts hip 32768`.
// Add `node --cpu-prof` (through NODE_OPTIONS) to profile it. Prints the median of `runs` builds (default 3).
import { createCpuBackend } from '@sparseland/backend-cpu';
import { compileRecipe, countKeptPairs, createRegistry } from '@sparseland/core';
import { createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, syntheticWorkload } from '@sparseland/eval';
import { estimators } from '../src/index.js';

const [name = 'hip', size = '32768', runsArg = '3', paramsArg = '{}'] = process.argv.slice(2);
const n = Number(size);
const backend = await createCpuBackend();
const registry = createRegistry({ plugins: [estimators] });
const [item] = await collectItems(syntheticWorkload({ n, seed: 1 }));
if (!item) throw new Error('no synthetic item');
const input = { q: item.q, k: item.k, v: item.v };
const shape = resolveAttentionShape(input);
const recipe = compileRecipe({ default: { method: name, params: JSON.parse(paramsArg) } }, registry);
const times: number[] = [];
for (let r = 0; r < Number(runsArg); r++) {
  const cost = createCostMeter();
  const t0 = performance.now();
  const built = await recipe.build({ input: { q: input.q, k: input.k, shape, causal: true }, backend, cost, seed: 0, layer: 0 });
  times.push(performance.now() - t0);
  // Counting a dense-ish mask's pairs takes longer than building it: only the first run does.
  const counted = r === 0 ? countKeptPairs(built.mask === 'dense' ? undefined : built.mask, shape, { causal: true }) : undefined;
  const density = counted ? `, density ${(counted.kept / counted.total).toFixed(4)}` : '';
  console.log(`${name} N=${n}: ${times.at(-1)?.toFixed(0)} ms${density}, ${(cost.total / 1e9).toFixed(2)} GFLOP`);
}
times.sort((a, b) => a - b);
console.log(`median ${times[Math.floor(times.length / 2)]?.toFixed(0)} ms`);
await backend.dispose();
