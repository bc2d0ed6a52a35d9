// The README's example: `pnpm --filter @sparseland/model build && npx tsx examples/quickstart.ts`.
import { createRegistry } from '@sparseland/core';
import { modelFiles } from '@sparseland/fixtures';
import { captureTraces, createModel, denseAttentionMap, loadCheckpoint, loadTokenizer } from '@sparseland/model';
import { slidingWindow } from '@sparseland/patterns';

export async function main(log: (line: string) => void = console.log): Promise<void> {
  // Any llama2.c checkpoint and tokenizer: a file path in Node, a URL in browsers.
  const files = modelFiles('stories260K');
  const weights = await loadCheckpoint(files.checkpoint);
  const tokenizer = await loadTokenizer(files.tokenizer, weights.config.vocabSize);
  const model = createModel(weights);
  const { dim, layers, heads, kvHeads, seqLen } = model.config;
  log(`stories260K: dim ${dim}, ${layers} layers, ${heads} heads / ${kvHeads} kv heads, context ${seqLen}`);

  // 1. Greedy generation with dense attention (the default: core's float64 reference backend).
  const prompt = tokenizer.encode('Once upon a time, there was a little girl named Lily.', { bos: true });
  const dense = await model.generate(prompt, { maxTokens: 24, stopAtBos: true });
  log(`dense:          ${JSON.stringify(tokenizer.decode(dense))}`);

  // 2. The same with a sparse recipe: every query sees only its 4 nearest keys, in every layer.
  const registry = createRegistry({ plugins: [slidingWindow] });
  const recipe = { method: 'sliding-window', params: { window: 4 } };
  let kept = 0;
  let flops = 0;
  const sparse = await model.generate(prompt, {
    maxTokens: 24,
    stopAtBos: true,
    recipe,
    registry,
    onAttention: (e) => {
      if (e.phase === 'prefill' && e.layer === 0) [kept, flops] = [e.stats.density, e.stats.flops.attend];
    },
  });
  log(`sliding window: ${JSON.stringify(tokenizer.decode(sparse))}`);
  log(`prompt of ${prompt.length} tokens, layer 0 prefill: density ${kept.toFixed(3)}, ${flops} attention FLOPs`);

  // 3. Real attention inputs: Q, K (after RoPE) and V of every layer, and an exact attention map on demand.
  const tokens = [...prompt, ...dense];
  const trace = await captureTraces(model, tokens, { layers: [4] });
  const { q, k } = trace.layers[0]!;
  log(`layer 4 trace: q [${q.heads}, ${q.length}, ${q.dim}], k [${k.heads}, ${k.length}, ${k.dim}]`);
  const last = tokens.length - 1;
  const row = denseAttentionMap(trace.layers[0]!, 0, { rows: [last] });
  const top = Array.from(row, (p, j) => ({ p, j }))
    .sort((a, b) => b.p - a.p)
    .slice(0, 3)
    .map(({ p, j }) => `position ${j} ${JSON.stringify(tokenizer.decode(tokens.slice(j, j + 1)))} (${p.toFixed(2)})`);
  log(`layer 4 head 0, last query attends to: ${top.join(', ')}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
