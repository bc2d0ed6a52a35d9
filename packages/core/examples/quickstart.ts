// The README's example for users: `pnpm --filter @sparseland/core exec tsx --conditions=@sparseland/source examples/quickstart.ts`.
import {
  and,
  attention,
  attentionRecall,
  ColumnMask,
  causal,
  compileRecipe,
  createBlockMask,
  createRegistry,
  definePattern,
  isSparselandError,
  outputError,
  randomHeadTensor,
  unionMasks,
} from '@sparseland/core';
import { z } from 'zod';

export async function quickstart(log: (line: string) => void = console.log): Promise<void> {
  // Q, K, V: 8 query heads sharing 2 kv heads (GQA 4:1), 1,000 positions, head dim 64.
  const n = 1000;
  const q = randomHeadTensor({ heads: 8, length: n, dim: 64, seed: 1 });
  const k = randomHeadTensor({ heads: 2, length: n, dim: 64, seed: 2 });
  const v = randomHeadTensor({ heads: 2, length: n, dim: 64, seed: 3 });
  const shape = { heads: 8, qLength: n, kvLength: n, qOffset: 0 };

  // A mask from its exact definition: a causal window of 128 keys, as 64×64 blocks shared by every head ...
  const window = createBlockMask(
    and(causal, (_h, qPos, kPos) => qPos - kPos < 128),
    shape,
    { blockQ: 64, blockK: 64, broadcast: true },
  );
  // ... united with 4 attention-sink columns.
  const sinks = ColumnMask.build(shape, 64, { heads: 1 }, (_h, _qb, keys) => keys.pushAll([0, 1, 2, 3]));
  const mask = unionMasks({ blocks: window }, { columns: sinks });

  // Without a backend, attention() runs on core's float64 reference backend. (Random Q and K spread attention
  // evenly, so a quarter of the pairs keeps well under half of the softmax mass; real models concentrate it.)
  const sparse = await attention({ q, k, v }, { mask });
  const dense = await attention({ q, k, v });
  log(`density ${sparse.stats.density.toFixed(4)}: ${sparse.stats.flops.attend} attention FLOPs, dense ${dense.stats.flops.attend}`);
  const recall = attentionRecall({ q, k, v }, mask).mean;
  log(`recall ${recall.toFixed(4)}, output error ${outputError(sparse.output, dense.output).toFixed(4)}`);

  // Recipes name methods from a registry; a plugin is a frozen object (patterns ship in @sparseland/patterns).
  const band = definePattern({
    name: 'band',
    summary: 'Each query sees the previous `window` keys.',
    paper: { title: 'Longformer: The Long-Document Transformer', year: 2020, url: 'https://arxiv.org/abs/2004.05150' },
    params: z.object({ window: z.number().int().min(1).default(128) }).strict(),
    build: ({ window }) => ({ causal: true, maskMod: () => (_h, qPos, kPos) => kPos <= qPos && qPos - kPos < window }),
  });
  const registry = createRegistry({ plugins: [band] });
  const recipe = compileRecipe(
    { default: { method: 'band' }, layers: { 1: { default: { method: 'band', params: { window: 64 } } } } },
    registry,
  );
  for (const layer of [0, 1]) {
    const { stats } = await attention({ q, k, v }, { recipe, layer });
    log(`layer ${layer}: density ${stats.density.toFixed(4)}`);
  }

  // Bad input is a SparselandError with a code, the JSON path and what was allowed.
  try {
    compileRecipe({ default: { method: 'band', params: { window: 0 } } }, registry);
  } catch (error) {
    if (isSparselandError(error)) log(error.message);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await quickstart();
