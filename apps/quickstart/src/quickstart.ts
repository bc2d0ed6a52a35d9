import { readFile } from 'node:fs/promises';
import { attention, attentionRecall, type Backend, compileRecipe, createRegistry, outputError } from '@sparseland/core';
import { modelFiles, textFile } from '@sparseland/fixtures';
import { captureTraces, createModel, loadCheckpoint, loadTokenizer } from '@sparseland/model';
import { patterns } from '@sparseland/patterns';

/** One row of the quickstart's table: a layer of tinybooks-2k under the recipe, measured against dense attention. */
export interface QuickstartRow {
  readonly layer: number;
  readonly density: number;
  readonly recallMean: number;
  readonly recallMin: number;
  readonly outputError: number;
  readonly sparseMs: number;
  readonly denseMs: number;
}

/**
 * A recipe document: attention sinks + a local window everywhere, and in layer 1 (whose head 1 is the model's one
 * non-local head) that head also gets strided long-range keys. Block sizes are the recipe's (64×64 by default).
 */
export const QUICKSTART_RECIPE = {
  description: 'A-shape everywhere; layer 1 head 1 adds strided long-range keys',
  default: { method: 'a-shape', params: { sink: 16, local: 256 } },
  layers: {
    '1': {
      heads: {
        '1': {
          union: [
            { method: 'a-shape', params: { sink: 16, local: 256 } },
            { method: 'strided', params: { stride: 16 } },
          ],
        },
      },
    },
  },
};

/**
 * Runs the recipe on the real Q/K/V of every layer of tinybooks-2k over `positions` bytes of Pride and Prejudice
 * and compares each layer's output with dense attention on the same backend.
 */
export async function runQuickstart(backend: Backend, positions = 2048): Promise<QuickstartRow[]> {
  const files = modelFiles('tinybooks-2k');
  const model = createModel(await loadCheckpoint(files.checkpoint));
  const tokenizer = await loadTokenizer(files.tokenizer, model.config.vocabSize);
  const text = (await readFile(textFile('pride-and-prejudice'), 'latin1')).replace(/\r\n/g, '\n');
  const tokens = tokenizer.encode(text.slice(10_000, 10_000 + positions));
  // Q and K after RoPE, and V, of every layer: the inputs attention really sees in this model.
  const trace = await captureTraces(model, tokens, { backend });
  const registry = createRegistry({ plugins: patterns });
  const recipe = compileRecipe(QUICKSTART_RECIPE, registry);
  const rows: QuickstartRow[] = [];
  for (const { layer, q, k, v } of trace.layers) {
    const input = { q, k, v };
    const sparse = await attention(input, { recipe, backend, layer });
    const dense = await attention(input, { backend });
    const recall = attentionRecall(input, sparse.mask ?? {}, { checkFinite: false });
    rows.push({
      layer,
      density: sparse.stats.density,
      recallMean: recall.mean,
      recallMin: recall.min,
      outputError: outputError(sparse.output, dense.output),
      sparseMs: sparse.stats.estimateMs + sparse.stats.attendMs,
      denseMs: dense.stats.attendMs,
    });
  }
  return rows;
}

/** The table the quickstart prints. */
export function formatRows(rows: readonly QuickstartRow[]): string {
  const head = 'layer  density  recall(mean)  recall(min)  output error  sparse ms  dense ms';
  const lines = rows.map((r) =>
    [
      String(r.layer).padStart(5),
      r.density.toFixed(3).padStart(8),
      r.recallMean.toFixed(4).padStart(13),
      r.recallMin.toFixed(4).padStart(12),
      r.outputError.toFixed(4).padStart(13),
      r.sparseMs.toFixed(1).padStart(10),
      r.denseMs.toFixed(1).padStart(9),
    ].join(''),
  );
  return [head, ...lines].join('\n');
}

/** What `pnpm quickstart` prints: the setting, the table, and how to read it. */
export async function printQuickstart(backend: Backend, log: (line: string) => void = console.log): Promise<void> {
  log('sparseland quickstart: tinybooks-2k (4 layers, 4 query heads, 2 kv heads, head dim 64), 2,048 bytes of Pride and Prejudice');
  log(`recipe: ${QUICKSTART_RECIPE.description}; backend: ${backend.name} (${backend.impl})\n`);
  log(formatRows(await runQuickstart(backend)));
  log('\ndensity counts kept pairs against the causal mask; recall is the dense softmax mass kept per query row;');
  log('times are single runs (speed is measured by pnpm bench).');
}
