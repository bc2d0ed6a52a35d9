// The README's "Use" section: the shipped SeerAttention gate on a text it never saw, then a small gate trained,
// saved as HDF5 and loaded back.
import { attention, attentionRecall, createRegistry } from '@sparseland/core';
import { buildGateSample, decodeGateWeights, encodeGateWeights, gateEstimators, trainGate } from '@sparseland/estimator-gate';
import { collectItems, readFixtureText, realTraceWorkload } from '@sparseland/eval';
import { gateFile, textFile } from '@sparseland/fixtures';

export async function quickstart(log: (line: string) => void): Promise<void> {
  const registry = createRegistry({ plugins: [gateEstimators] });
  const { readFile } = await import('node:fs/promises');
  // Layer 2 of tinybooks-2k over 1,024 bytes of SQLite's sqlite3.h (held out: no gate was trained on it).
  const content = await readFile(textFile('sqlite3-header'), 'utf8');
  const [item] = await collectItems(
    await realTraceWorkload({
      model: 'tinybooks-2k',
      text: { name: 'sqlite3-header', content },
      offset: 30_000,
      positions: 1024,
      layers: [2],
    }),
  );
  if (!item) throw new Error('no trace');
  const input = { q: item.q, k: item.k, v: item.v };

  // 1. The trained gate, by file: its block probabilities above 0.15 become 64×64 blocks.
  const recipe = {
    default: {
      method: 'seer-attention',
      params: { weights: gateFile('tinybooks-2k.seer-attention'), threshold: 0.15, lastBlockDense: false },
    },
  };
  const run = await attention(input, { recipe, registry, layer: 2 });
  log(`trained gate: density ${run.stats.density.toFixed(3)}, recall ${attentionRecall(input, run.mask ?? {}).mean.toFixed(3)}`);

  // 2. Train a gate on one window of Pride and Prejudice (a few seconds), keep it as HDF5 bytes, load it back.
  const book = await readFixtureText('pride-and-prejudice');
  const samples = [];
  for (const offset of [10_000, 90_000]) {
    const traces = await collectItems(
      await realTraceWorkload({ model: 'tinybooks-2k', text: { name: 'p&p', content: book }, offset, positions: 512, layers: [2] }),
    );
    for (const t of traces) samples.push(await buildGateSample(t, { kinds: ['seer-attention'] }));
  }
  const trained = trainGate({
    kind: 'seer-attention',
    train: samples.slice(0, 1),
    validation: samples.slice(1),
    hidden: 16,
    epochs: 20,
    batchSize: 1,
  });
  const bytes = await encodeGateWeights(trained.weights);
  const loaded = await decodeGateWeights(bytes);
  const last = trained.validation[trained.validation.length - 1];
  log(`trained ${trained.trainLoss.length} steps: held-out KL ${trained.validation[0]?.loss.toFixed(3)} → ${last?.loss.toFixed(3)}`);
  log(`HDF5: ${bytes.length} bytes, tensors ${Object.keys(loaded.tensors).join(', ')}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await quickstart(console.log);
