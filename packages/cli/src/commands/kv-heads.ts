import { writeFileSync } from 'node:fs';
import { type FixtureModelName, formatTable, needleTraces } from '@sparseland/eval';
import { classifyHeads, duoRecipe } from '@sparseland/kv-cache';
import { chooseBackend } from '../backend.js';
import { UsageError } from '../exit-codes.js';
import { loadPlugins } from '../plugins.js';
import { modelOf } from '../workload-spec.js';

export interface KvHeadsOptions {
  readonly model: string;
  readonly prompts: string;
  readonly streaming: string;
  readonly sink: string;
  readonly recent: string;
  readonly out?: string;
  readonly json?: boolean;
  readonly backend: string;
  readonly seed: string;
}

/**
 * `sparseland kv-heads`: DuoAttention's split of an embedded model's kv heads into retrieval and streaming heads,
 * from pass-key prompts (classifyHeads), written as a recipe (the full cache on retrieval heads, streaming-llm on
 * streaming heads) that `generate --recipe` and `eval --kv --recipe` load.
 */
export async function kvHeadsCommand(options: KvHeadsOptions, out: (text: string) => void): Promise<void> {
  const model = modelOf(options.model) as FixtureModelName | undefined;
  if (!model) throw new UsageError(`--model must be tinybooks or stories, got "${options.model}"`);
  const int = (text: string, what: string, min: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${what} must be an integer >= ${min}, got "${text}"`);
    return n;
  };
  const streamingFraction = Number(options.streaming);
  if (!(streamingFraction >= 0 && streamingFraction <= 1))
    throw new UsageError(`--streaming must be a fraction in [0, 1], got "${options.streaming}"`);
  const sink = int(options.sink, '--sink', 0);
  const recent = int(options.recent, '--recent', 1);
  const { registry } = await loadPlugins();
  const backend = await chooseBackend(registry, options.backend);
  try {
    const traces = await needleTraces({
      model,
      prompts: int(options.prompts, '--prompts', 1),
      seed: int(options.seed, '--seed', 0),
      backend,
    });
    const { scores, streamingHeads } = classifyHeads(traces, { sink, recent, streamingFraction });
    const recipe = duoRecipe(streamingHeads, { sink, recent });
    if (options.out) writeFileSync(options.out, `${JSON.stringify(recipe, null, 2)}\n`);
    if (options.json) {
      out(JSON.stringify({ scores, streamingHeads, recipe }, null, 2));
      return;
    }
    const rows = scores.flatMap((layer, l) =>
      layer.map((score, g) => ({ l, g, score, streaming: streamingHeads[l]?.includes(g) ?? false })),
    );
    out(`# ${model}: mass that pass-key answer queries put outside the first ${sink} + newest ${recent} tokens, ${traces.length} prompts`);
    out(
      formatTable(
        [
          { header: 'layer', cell: (r: (typeof rows)[number]) => r.l },
          { header: 'kv head', cell: (r: (typeof rows)[number]) => r.g },
          { header: 'outside-window mass', cell: (r: (typeof rows)[number]) => r.score },
          { header: 'head', cell: (r: (typeof rows)[number]) => (r.streaming ? 'streaming' : 'retrieval') },
        ],
        rows,
      ),
    );
    if (options.out) out(`wrote ${options.out}`);
  } finally {
    await backend.dispose();
  }
}
