import { type FixtureModelName, formatTable, needleTraces } from '@sparseland/eval';
import { classifyHeads, duoRecipe } from '@sparseland/kv-cache';
import { chooseBackend } from '../backend.js';
import { CLI_LIMITS, parseInteger, parseSeed, quote } from '../cli-values.js';
import { UsageError } from '../exit-codes.js';
import { checkOutputFile, writeFilesAtomically } from '../output-files.js';
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
  if (!model) throw new UsageError(`--model must be tinybooks or stories, got ${quote(options.model)}`);
  const streamingFraction = Number(options.streaming);
  if (!(streamingFraction >= 0 && streamingFraction <= 1))
    throw new UsageError(`--streaming must be a fraction in [0, 1], got ${quote(options.streaming)}`);
  const sink = parseInteger(options.sink, '--sink', 0, CLI_LIMITS.length);
  const recent = parseInteger(options.recent, '--recent', 1, CLI_LIMITS.length);
  const prompts = parseInteger(options.prompts, '--prompts', 1, 1024);
  const seed = parseSeed(options.seed);
  if (options.out !== undefined) checkOutputFile(options.out, '--out');
  const { registry } = await loadPlugins();
  const backend = await chooseBackend(registry, options.backend);
  try {
    const traces = await needleTraces({
      model,
      prompts,
      seed,
      backend,
    });
    const { scores, streamingHeads } = classifyHeads(traces, { sink, recent, streamingFraction });
    const recipe = duoRecipe(streamingHeads, { sink, recent });
    if (options.out) writeFilesAtomically([{ path: options.out, data: `${JSON.stringify(recipe, null, 2)}\n` }]);
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
