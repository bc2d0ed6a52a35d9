// Density and recall of one gate on the four held-out windows of the targets (64×64 blocks, 2,048 tokens), for a
// weights file and selection parameters: `tsx scripts/held-out.ts <kind> <weights.h5> '<params json>'`.
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@sparseland/backend-cpu';
import type { EstimatorPlugin } from '@sparseland/core';
import { attentionRecall, countKeptPairs, type SparseMask } from '@sparseland/core';
import { createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { textFile } from '@sparseland/fixtures';
import { dma, seerAttention, sparsifiner } from '../src/index.js';
import { traceWindow } from './corpus.js';

const [kind = 'seer-attention', weights = '', paramsJson = '{}'] = process.argv.slice(2);
const plugin = ({ 'seer-attention': seerAttention, sparsifiner, dma } as Record<string, EstimatorPlugin>)[kind];
if (!plugin) throw new Error(`unknown kind ${kind}`);
const backend = await createCpuBackend();
const estimate = plugin.build(plugin.parseParams({ weights, ...JSON.parse(paramsJson) }));
const rows: { text: string; offset: number; density: number; recall: number }[] = [];
for (const name of ['devils-dictionary', 'sqlite3-header']) {
  for (const offset of [30_000, 200_000]) {
    const traces = await traceWindow({ text: name, offset }, backend, readFileSync(textFile(name), 'utf8'));
    let recall = 0;
    let kept = 0;
    let total = 0;
    for (const t of traces) {
      const shape = resolveAttentionShape(t);
      const mask = (await estimate(
        { q: t.q, k: t.k, v: t.v, shape, causal: true },
        { backend, cost: createCostMeter(), seed: 0, layer: t.layer, blockQ: 64, blockK: 64 },
      )) as SparseMask;
      recall += attentionRecall(t, mask).mean / traces.length;
      const c = countKeptPairs(mask, shape);
      kept += c.kept;
      total += c.total;
    }
    rows.push({ text: name, offset, density: kept / total, recall });
  }
}
await backend.dispose();
console.log(
  JSON.stringify(
    {
      kind,
      weights,
      params: JSON.parse(paramsJson),
      rows,
      meanRecall: rows.reduce((s, r) => s + r.recall, 0) / rows.length,
      meanDensity: rows.reduce((s, r) => s + r.density, 0) / rows.length,
    },
    null,
    1,
  ),
);
