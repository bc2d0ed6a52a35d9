// Suite `gate-cost`: how long the gates take to build their masks on the cpu backend against dense causal attention
// on the same backend and input, in the same run. Full size: SeerAttention at N = 32,768 (8 query / 2 kv heads,
// head dim 64, the planted synthetic workload of @sparseland/eval, 64×64 blocks), hidden 128 (the paper's) and 32
// (the shipped tinybooks-2k gate's); Sparsifiner (rank 16) and DMA at N = 4,096, because Sparsifiner predicts every
// attention row (a softmax over all keys per row, in JavaScript: quadratic). The weights are freshly initialised
// for the shape (the cost does not depend on their values). BENCH_SIZE=smoke: N = 1,024 for all. Run the full size
// under `flock /tmp/sparseland-bench.lock` on a quiet machine.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCpuBackend } from '@sparseland/backend-cpu';
import { type BenchRecord, benchSize, gflops, measure, writeSuite } from '@sparseland/bench-harness';
import { attentionFlops, compileRecipe, createRegistry, densePairs, type RecipeDocument } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, estimationCost, syntheticWorkload } from '@sparseland/eval';
import { encodeGateWeights, GATE_MODELS, type GateKind, gateEstimators } from '../src/index.js';

const smoke = benchSize() === 'smoke';
const runs = { runs: 5, warmups: smoke ? 1 : 0 };
const backend = await createCpuBackend();
const registry = createRegistry({ plugins: [gateEstimators] });
const dir = mkdtempSync(join(tmpdir(), 'sparseland-gate-bench-'));
const records: BenchRecord[] = [];

async function suite(
  n: number,
  cases: (file: (kind: GateKind, hidden: number) => Promise<string>) => Promise<{ label: string; recipe: RecipeDocument }[]>,
) {
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
  const weights = async (kind: GateKind, hidden: number): Promise<string> => {
    const file = join(dir, `${kind}-${hidden}.h5`);
    const config = { kind, layers: 1, heads: shape.heads, kvHeads: shape.kvHeads, dim: shape.dim, hidden, blockSize: 64 };
    writeFileSync(file, await encodeGateWeights(GATE_MODELS[kind].init(config, 0)));
    return file;
  };
  const denseFlops = attentionFlops(densePairs(shape, true), shape.dim);
  const dense = await measure(() => backend.attend(input, { causal: true }), runs);
  records.push({ ...base, case: 'dense causal attention', density: 1, ...dense, gflops: gflops(denseFlops, dense.medianMs) });
  console.error(`n ${n}: dense ${dense.medianMs.toFixed(0)} ms`);
  for (const c of await cases(weights)) {
    const recipe = compileRecipe(c.recipe, registry);
    const cost = await estimationCost(recipe, { input, shape, backend, measure: (fn) => measure(fn, runs), denseMs: dense.medianMs });
    records.push({ ...base, case: c.label, ...cost });
    console.error(`n ${n}: ${c.label}: ${cost.medianMs.toFixed(0)} ms (${(100 * cost.fractionOfDense).toFixed(1)}% of dense)`);
  }
}

await suite(smoke ? 1024 : 32768, async (weights) => [
  {
    label: 'seer-attention (hidden 128, ratio 0.1)',
    recipe: { default: { method: 'seer-attention', params: { weights: await weights('seer-attention', 128), mode: 'ratio' } } },
  },
  {
    label: 'seer-attention (hidden 32, ratio 0.1)',
    recipe: { default: { method: 'seer-attention', params: { weights: await weights('seer-attention', 32), mode: 'ratio' } } },
  },
]);
await suite(smoke ? 1024 : 4096, async (weights) => [
  {
    label: 'sparsifiner (rank 16, ratio 0.1)',
    recipe: { default: { method: 'sparsifiner', params: { weights: await weights('sparsifiner', 16), mode: 'ratio' } } },
  },
  { label: 'dma (keepWindowSize 2048)', recipe: { default: { method: 'dma', params: { weights: await weights('dma', 1) } } } },
]);
await backend.dispose();
writeSuite('gate-cost', records);
