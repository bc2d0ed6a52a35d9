// The README's "Use" section: KV policies named in recipes, on a real model session, and what each cache holds.
import { compileRecipe, createRegistry, type Recipe } from '@sparseland/core';
import { loadFixtureModel, passageTokens, readFixtureText } from '@sparseland/eval';
import { kvPolicies } from '@sparseland/kv-cache';
import { argmax } from '@sparseland/model';

export async function quickstart(log: (line: string) => void): Promise<void> {
  const registry = createRegistry({ plugins: kvPolicies });
  // stories260K (5 layers, 8 query / 4 kv heads, head dim 8) on a 400-token passage of Pride and Prejudice.
  const model = await loadFixtureModel('stories260K');
  const prompt = passageTokens(model, await readFixtureText('pride-and-prejudice'), 0, 400);

  const run = async (label: string, recipe: Recipe) => {
    const session = model.model.createSession({ recipe: compileRecipe(recipe, registry) });
    let logits = await session.prefill(prompt);
    const tokens: number[] = [];
    for (let i = 0; i < 20; i++) {
      tokens.push(argmax(logits));
      logits = await session.step(tokens[tokens.length - 1] as number);
    }
    const bytes = session.cache.reduce((n, layer) => n + layer.bytes(), 0);
    const heads = session.cache[0]?.kvHeads ?? 0;
    const lengths = Array.from({ length: heads }, (_, g) => session.cache[0]?.length(g));
    log(
      `${label.padEnd(30)} ${(bytes / 1024).toFixed(1).padStart(6)} KiB  layer 0 slots ${lengths.join('/')}  ${JSON.stringify(model.tokenizer.decode(tokens))}`,
    );
    await session.dispose();
  };

  await run('full cache', { default: { method: 'dense' } });
  // One policy for every layer and kv head: a quarter of the prompt, sinks + the newest tokens.
  await run('streaming-llm 25%', { default: { method: 'dense' }, kv: { method: 'streaming-llm', params: { budget: 0.25 } } });
  // Heavy hitters by accumulated attention, half of the budget for the newest tokens.
  await run('h2o 25%', { default: { method: 'dense' }, kv: { method: 'h2o', params: { budget: 0.25 } } });
  // Really packed int4 keys (per channel) and values (per token), the newest 32 tokens in float32.
  await run('kivi int4', { default: { method: 'dense' }, kv: { method: 'kivi', params: { bits: 4, residual: 32 } } });
  // Per kv head: DuoAttention-style streaming heads (a ragged cache), the other heads keep everything.
  await run('streaming on kv heads 0, 2', {
    default: { method: 'dense' },
    layers: Object.fromEntries(
      [0, 1, 2, 3, 4].map((l) => [
        l,
        { kvHeads: { 0: { method: 'streaming-llm', params: { budget: 64 } }, 2: { method: 'streaming-llm', params: { budget: 64 } } } },
      ]),
    ),
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await quickstart(console.log);
