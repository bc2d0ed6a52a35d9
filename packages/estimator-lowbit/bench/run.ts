// Suite `lowbit-cost`: how long SALE and PARO take to build their masks on the cpu backend against dense causal
// attention on the same backend and input, in the same run. Full size: N = 32,768, 8 query / 2 kv heads, head dim
// 64, the planted synthetic workload of @sparseland/eval. BENCH_SIZE=smoke: N = 1,024. Run the full size under
// `flock /tmp/sparseland-bench.lock` on a quiet machine; it takes a few minutes.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { type BenchRecord, benchSize, gflops, measure, writeSuite } from '@sparseland/bench-harness';
import { attentionFlops, compileRecipe, createRegistry, densePairs, type RecipeDocument } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, estimationCost, syntheticWorkload } from '@sparseland/eval';
import { lowbitEstimators } from '../src/index.js';

const smoke = benchSize() === 'smoke';
const n = smoke ? 1024 : 32768;
const runs = { runs: 5, warmups: smoke ? 1 : 0 };
const backend = await createCpuBackend();
const registry = createRegistry({ plugins: [lowbitEstimators] });
const [item] = await collectItems(syntheticWorkload({ n, seed: 1 }));
if (!item) throw new Error('no synthetic item');
const input = { q: item.q, k: item.k, v: item.v };
const shape = resolveAttentionShape(input);
const base = {
  backend: backend.name,
  impl: backend.impl,
  simd: backend.simd,
  threads: backend.threads,
  n,
  qHeads: shape.heads,
  kvHeads: shape.kvHeads,
  dim: shape.dim,
};

const denseFlops = attentionFlops(densePairs(shape, true), shape.dim);
const dense = await measure(() => backend.attend(input, { causal: true }), runs);
const records: BenchRecord[] = [
  { ...base, case: 'dense causal attention', density: 1, ...dense, gflops: gflops(denseFlops, dense.medianMs) },
];
console.error(`dense: ${dense.medianMs.toFixed(0)} ms`);

const cases: { label: string; recipe: RecipeDocument }[] = [
  { label: 'sale (defaults, 64×32 blocks)', recipe: { blockQ: 64, blockK: 32, default: { method: 'sale' } } },
  { label: 'sale (defaults, 64×64 blocks)', recipe: { default: { method: 'sale' } } },
  { label: 'sale (int8, 64×64 blocks)', recipe: { default: { method: 'sale', params: { bits: 8 } } } },
  { label: 'paro (stride 1, defaults, 64×64)', recipe: { default: { method: 'paro' } } },
];
for (const c of cases) {
  const recipe = compileRecipe(c.recipe, registry);
  const cost = await estimationCost(recipe, { input, shape, backend, measure: (fn) => measure(fn, runs), denseMs: dense.medianMs });
  records.push({ ...base, case: c.label, ...cost });
  console.error(`${c.label}: ${cost.medianMs.toFixed(0)} ms (${(100 * cost.fractionOfDense).toFixed(1)}% of dense)`);
}
// The op SALE's time goes to, alone: int4 block maxima of every causal pair (quantScores tiles + colMax), and the
// same with per-row offsets (the fused quantBiasColMaxT kernel SALE uses).
for (const withBias of [false, true]) {
  const rowBias = withBias ? new Float32Array(shape.heads * shape.qLength) : undefined;
  const timing = await measure(
    () =>
      backend.quantizedScores({ q: input.q, k: input.k }, { bits: 4, pool: { blockQ: 64, blockK: 64 }, ...(rowBias ? { rowBias } : {}) }),
    runs,
  );
  const fraction = timing.medianMs / dense.medianMs;
  records.push({
    ...base,
    case: `quantizedScores int4 pooled 64×64${withBias ? ', row offsets' : ''}`,
    ...timing,
    fractionOfDense: fraction,
    note: `${(100 * fraction).toFixed(1)}% of dense time`,
  });
  console.error(
    `quantizedScores int4 pooled${withBias ? ' + row offsets' : ''}: ${timing.medianMs.toFixed(0)} ms (${(100 * fraction).toFixed(1)}% of dense)`,
  );
}
await backend.dispose();
writeSuite('lowbit-cost', records);
