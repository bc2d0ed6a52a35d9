// The README's "Use" section: run an estimator through attention(), search a per-head recipe (@sparseland/eval), load it.
import { attention, attentionRecall, createRegistry } from '@sparseland/core';
import { estimators } from '@sparseland/estimators';
import { collectItems, defaultCandidates, realTraceWorkload, searchRecipe } from '@sparseland/eval';

export async function quickstart(log: (line: string) => void): Promise<void> {
  const registry = createRegistry({ plugins: [estimators] });
  // Real attention inputs: layer 1 of the tinybooks-2k model over 1,024 bytes of Pride and Prejudice (4 / 2 heads).
  const [item] = await collectItems(await realTraceWorkload({ model: 'tinybooks-2k', positions: 1024, layers: [1] }));
  if (!item) throw new Error('no input');
  const input = { q: item.q, k: item.k, v: item.v };
  const rows = Array.from({ length: 32 }, (_, r) => 31 + 32 * r);

  // 1. One estimator for every head: FlexPrefill with the paper's defaults, 16×16 blocks.
  const flex = { blockQ: 16, blockK: 16, default: { method: 'flexprefill' } };
  const run = await attention(input, { recipe: flex, registry });
  const recall = attentionRecall(input, run.mask ?? {}, { rows }).mean;
  log(
    `flexprefill: density ${run.stats.density.toFixed(3)}, recall ${recall.toFixed(3)}, estimation ${(run.stats.flops.estimate / 1e6).toFixed(1)} MFLOP`,
  );

  // 2. The offline search: one candidate per head, the best mean recall at a mean density of at most 0.15.
  const { recipe, summary, heads } = await searchRecipe({
    traces: [{ layer: 0, ...input }],
    candidates: defaultCandidates(1024),
    budget: 0.15,
    registry,
    blockQ: 16,
    blockK: 16,
    rows: 128,
  });
  log(`searched: density ${summary.density.toFixed(3)}, recall ${summary.recall.toFixed(3)} on the calibration rows`);
  log(`head 0 uses ${JSON.stringify(heads[0]?.recipe)}`);

  // 3. The recipe is plain JSON that attention() (and a model session) loads directly.
  const searched = await attention(input, { recipe: JSON.parse(JSON.stringify(recipe)), registry });
  log(
    `searched recipe through attention(): density ${searched.stats.density.toFixed(3)}, recall ${attentionRecall(input, searched.mask ?? {}, { rows }).mean.toFixed(3)}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await quickstart(console.log);
