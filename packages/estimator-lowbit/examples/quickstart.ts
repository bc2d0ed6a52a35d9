// The README's "Use" section: SALE through attention(), its thresholds calibrated on one text and used on another,
// and PARO's choice of token order per head.
import { attention, attentionRecall, createRegistry } from '@sparseland/core';
import { calibrateSale, choosePermutations, lowbitEstimators, saleRecipe } from '@sparseland/estimator-lowbit';
import { collectItems, realTraceWorkload } from '@sparseland/eval';
import { textFile } from '@sparseland/fixtures';

export async function quickstart(log: (line: string) => void): Promise<void> {
  const registry = createRegistry({ plugins: [lowbitEstimators] });
  const { readFile } = await import('node:fs/promises');
  const trace = async (name: string, offset: number) => {
    const content = await readFile(textFile(name), 'utf8');
    const [item] = await collectItems(
      await realTraceWorkload({ model: 'tinybooks-2k', text: { name, content }, offset, positions: 1024, layers: [1] }),
    );
    if (!item) throw new Error('no trace');
    return item;
  };
  // Layer 1 of tinybooks-2k: calibrate on Pride and Prejudice, measure on The Devil's Dictionary (held out).
  const calibration = await trace('pride-and-prejudice', 400_000);
  const item = await trace('devils-dictionary', 30_000);
  const input = { q: item.q, k: item.k, v: item.v };

  // 1. SALE with its README threshold (0.004) on every head, 64×32 blocks.
  const flat = await attention(input, { recipe: { blockQ: 64, blockK: 32, default: { method: 'sale' } }, registry, layer: 1 });
  log(
    `sale τ = 0.004: density ${flat.stats.density.toFixed(3)}, recall ${attentionRecall(input, flat.mask ?? {}).mean.toFixed(3)}, estimation ${(flat.stats.flops.estimate / 1e6).toFixed(0)} MFLOP`,
  );

  // 2. Per-head thresholds by SALE's output-error rule (halve τ from 0.008 until the L1 error is under 0.4 per row).
  const thresholds = await calibrateSale([calibration]);
  log(
    `calibrated τ for layer 1: ${thresholds
      .get(1)
      ?.map((t) => t.toPrecision(2))
      .join(', ')}`,
  );
  const calibrated = await attention(input, { recipe: saleRecipe(thresholds), registry, layer: 1 });
  log(
    `sale calibrated: density ${calibrated.stats.density.toFixed(3)}, recall ${attentionRecall(input, calibrated.mask ?? {}).mean.toFixed(3)}`,
  );

  // 3. PARO: which token order makes each head's attention most block-wise at 10 % block density.
  const [choice] = await choosePermutations([calibration], { density: 0.1, strides: [1, 2, 4, 8] });
  log(
    `paro head 0: stride ${choice?.stride}, block recall by stride ${JSON.stringify(choice?.recall, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(3)) : v))}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await quickstart(console.log);
