// `tsx --conditions=@sparseland/source scripts/readme-table.ts`: the README's measured columns. Every estimator on
// the tinybooks-2k traces (2,048 positions of Pride and Prejudice, 4 layers × 4 heads, every row measured), once
// with its defaults at 64×64 blocks and once with a budget for this short sequence. Prints Markdown rows.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { createRegistry, type RecipeDocument } from '@sparseland/core';
import { evaluateMethods, realTraceWorkload } from '@sparseland/eval';
import { estimators } from '../src/index.js';

const backend = await createCpuBackend();
const registry = createRegistry({ plugins: [estimators] });
const workload = await realTraceWorkload({ model: 'tinybooks-2k', backend });

/** A budget for N = 2,048 per method (the defaults target 32K–1M tokens), with the block geometry it runs at. */
const BUDGETS: Record<string, { params: Record<string, unknown>; blockQ: number; blockK: number }> = {
  'vertical-slash': { params: { vertical: 30, slash: 250, sinkColumns: 0, localDiagonals: 100 }, blockQ: 1, blockK: 8 },
  'block-sparse': { params: { topK: 24 }, blockQ: 1, blockK: 8 },
  flexprefill: { params: { gamma: 0.97, tau: 1 }, blockQ: 1, blockK: 8 },
  'block-topk': { params: { topK: 24 }, blockQ: 1, blockK: 8 },
  moba: { params: { chunkSize: 64, topK: 3 }, blockQ: 16, blockK: 16 },
  biformer: { params: { regions: 64, topK: 6 }, blockQ: 16, blockK: 16 },
  hip: { params: { maskK: 128, windowTokens: 64 }, blockQ: 16, blockK: 16 },
  hyperattention: { params: { minSeqLen: 256, blockSize: 64, sampleSize: 32 }, blockQ: 1, blockK: 8 },
  routing: { params: { windowSize: 64, localWindow: 64 }, blockQ: 1, blockK: 8 },
  'reformer-lsh': { params: { chunkLength: 32 }, blockQ: 1, blockK: 8 },
  anchor: { params: { threshold: 4, initTokens: 16, localTokens: 64 }, blockQ: 16, blockK: 16 },
  sea: { params: { width: 128, topK: 12 }, blockQ: 1, blockK: 8 },
  'spark-topk': { params: { k: 128 }, blockQ: 16, blockK: 16 },
  'double-sparsity': { params: { heavyConst: 128 }, blockQ: 16, blockK: 16 },
  zipvl: { params: { threshold: 0.9 }, blockQ: 16, blockK: 16 },
};

const methods: { label: string; recipe: RecipeDocument }[] = [];
for (const plugin of estimators) {
  methods.push({ label: `${plugin.name}|defaults`, recipe: { blockQ: 64, blockK: 64, default: { method: plugin.name } } });
  const budget = BUDGETS[plugin.name];
  if (budget)
    methods.push({
      label: `${plugin.name}|budget`,
      recipe: { blockQ: budget.blockQ, blockK: budget.blockK, default: { method: plugin.name, params: budget.params } },
    });
}
const report = await evaluateMethods({ methods, workloads: [workload], registry, backend, recallRows: 'all' });
const cell = (label: string) => {
  const r = report.results.find((x) => x.method === label);
  return r ? `${r.summary.density.toFixed(3)} / ${r.summary.recallMean.toFixed(3)}` : '—';
};
for (const plugin of estimators) {
  const budget = BUDGETS[plugin.name];
  const params = budget ? `${JSON.stringify(budget.params)} at ${budget.blockQ}×${budget.blockK}` : '';
  console.log(`| \`${plugin.name}\` | ${cell(`${plugin.name}|defaults`)} | ${params} | ${cell(`${plugin.name}|budget`)} |`);
}
await backend.dispose();
