// Suite `estimators-cost`: how long each estimator takes to build its mask (estimation, on the cpu backend) against
// dense causal attention on the same backend and input, measured in the same run. Full size: N = 32,768, 8 query
// and 2 kv heads, head dim 64, the planted synthetic workload of @sparseland/eval, every estimator with its
// defaults and 64×64 blocks. BENCH_SIZE=smoke: N = 1,024 (seconds). The full size takes several minutes: run it
// under `flock /tmp/sparseland-bench.lock` on a quiet machine.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { type BenchRecord, benchSize, gflops, measure, writeSuite } from '@sparseland/bench-harness';
import { attentionFlops, compileRecipe, countKeptPairs, createRegistry, densePairs } from '@sparseland/core';
import { createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, syntheticWorkload } from '@sparseland/eval';
import { estimators } from '../src/index.js';

const smoke = benchSize() === 'smoke';
const n = smoke ? 1024 : 32768;
const runs = { runs: 5, warmups: smoke ? 1 : 0 };
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
const dense = await measure(() => backend.attend(input, { causal: true }), runs);
const records: BenchRecord[] = [
  { ...base, case: 'dense causal attention', density: 1, ...dense, gflops: gflops(denseFlops, dense.medianMs) },
];
console.error(`dense: ${dense.medianMs.toFixed(0)} ms`);

for (const plugin of estimators) {
  const recipe = compileRecipe({ default: { method: plugin.name } }, registry);
  let estimateFlops = 0;
  let mask: Awaited<ReturnType<typeof recipe.build>>['mask'] = 'dense';
  const timing = await measure(async () => {
    const cost = createCostMeter();
    const built = await recipe.build({ input: { q: input.q, k: input.k, shape, causal: true }, backend, cost, seed: 0, layer: 0 });
    estimateFlops = cost.total;
    mask = built.mask;
  }, runs);
  const counted = countKeptPairs(mask === 'dense' ? undefined : mask, shape, { causal: true });
  const fraction = timing.medianMs / dense.medianMs;
  const target = targetOf(plugin.name);
  records.push({
    ...base,
    case: `${plugin.name} (defaults, 64×64)`,
    density: counted.kept / counted.total,
    ...timing,
    fractionOfDense: fraction,
    target,
    meetsTarget: smoke ? undefined : fraction <= target,
    estimateFlops,
    estimateFlopsOfDense: estimateFlops / denseFlops,
    note: `${(100 * fraction).toFixed(1)}% of dense time (target ≤ ${100 * target}%), ${((100 * estimateFlops) / denseFlops).toFixed(2)}% of dense FLOPs`,
  });
  console.error(
    `${plugin.name}: ${timing.medianMs.toFixed(0)} ms (${(100 * fraction).toFixed(1)}% of dense, target ≤ ${100 * target}% at 32K${smoke || fraction <= target ? '' : ': missed'})`,
  );
}
await backend.dispose();
writeSuite('estimators-cost', records);
