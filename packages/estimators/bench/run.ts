// Suite `estimators-cost`: how long each estimator takes to build its mask (estimation, on the cpu backend) against
// dense causal attention on the same backend and input, measured in the same run. Full size: N = 32,768, 8 query
// and 2 kv heads, head dim 64, the planted synthetic workload of @sparseland/eval, every estimator with its
// defaults and 64×64 blocks. BENCH_SIZE=smoke: N = 1,024 (seconds). The full size takes several minutes: run it
// under `flock /tmp/sparseland-bench.lock` on a quiet machine. Dense attention and every estimator are timed in
// rounds (each round runs each of them once), so every share of dense time compares runs at most a round apart.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { type BenchRecord, benchSize, gflops, writeSuite } from '@sparseland/bench-harness';
import { attentionFlops, compileRecipe, createRegistry, densePairs } from '@sparseland/core';
import { createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, estimationCost, measureInRounds, syntheticWorkload } from '@sparseland/eval';
import { estimators } from '../src/index.js';

const smoke = benchSize() === 'smoke';
const n = smoke ? 1024 : 32768;
const rounds = { rounds: 5, warmups: smoke ? 1 : 0 };
const backend = await createCpuBackend();
const registry = createRegistry({ plugins: [estimators] });
const [item] = await collectItems(syntheticWorkload({ n, seed: 1 }));
if (!item) throw new Error('no synthetic item');
const input = { q: item.q, k: item.k, v: item.v };
const shape = resolveAttentionShape(input);
const base = {
  backend: backend.name,
  impl: backend.impl,
  threads: backend.threads,
  n,
  qHeads: shape.heads,
  kvHeads: shape.kvHeads,
  dim: shape.dim,
};

/**
 * The estimation-cost targets at 32K (fraction of our dense time in the same run): 5% for the estimators meant to be
 * nearly free, 10% for every other one. Each record says its target and whether this run met it.
 */
const TIGHT = new Set(['vertical-slash', 'flexprefill', 'block-topk', 'spark-topk', 'double-sparsity']);
const targetOf = (name: string) => (TIGHT.has(name) ? 0.05 : 0.1);

const denseFlops = attentionFlops(densePairs(shape, true), shape.dim);
const recipes = estimators.map((plugin) => ({ name: plugin.name, recipe: compileRecipe({ default: { method: plugin.name } }, registry) }));
const build = (recipe: (typeof recipes)[number]['recipe']) => () =>
  recipe.build({ input: { ...input, shape, causal: true }, backend, cost: createCostMeter(), seed: 0, layer: 0 });
const [dense, ...timings] = await measureInRounds(
  [() => backend.attend(input, { causal: true }), ...recipes.map(({ recipe }) => build(recipe))],
  rounds,
);
if (!dense) throw new Error('no dense timing');
const records: BenchRecord[] = [
  { ...base, case: 'dense causal attention', density: 1, ...dense, gflops: gflops(denseFlops, dense.medianMs) },
];
console.error(`dense: ${dense.medianMs.toFixed(0)} ms`);

for (const [i, { name, recipe }] of recipes.entries()) {
  // The timing comes from the rounds; estimationCost's one more (untimed) build gives the mask and the FLOPs.
  const timing = timings[i];
  if (!timing) throw new Error(`no timing for ${name}`);
  const measure = async (fn: () => Promise<void>) => {
    await fn();
    return timing;
  };
  const cost = await estimationCost(recipe, { input, shape, backend, measure, denseMs: dense.medianMs });
  const target = targetOf(name);
  records.push({
    ...base,
    case: `${name} (defaults, 64×64)`,
    ...cost,
    target,
    meetsTarget: smoke ? undefined : cost.fractionOfDense <= target,
    note: `${cost.note} (target ≤ ${100 * target}% of dense time)`,
  });
  console.error(
    `${name}: ${cost.medianMs.toFixed(0)} ms (${(100 * cost.fractionOfDense).toFixed(1)}% of dense, target ≤ ${100 * target}% at 32K${smoke || cost.fractionOfDense <= target ? '' : ': missed'})`,
  );
}
await backend.dispose();
writeSuite('estimators-cost', records);
