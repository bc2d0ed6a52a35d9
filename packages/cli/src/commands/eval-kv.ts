import { join } from 'node:path';
import { compareKvPolicies, type FixtureModelName, formatKvReport, kvTradeoffSvg } from '@sparseland/eval';
import { chooseBackend } from '../backend.js';
import { CLI_LIMITS, parseInteger, quote } from '../cli-values.js';
import { UsageError } from '../exit-codes.js';
import { kvMethods } from '../kv-spec.js';
import { prepareOutputDir, writeFilesAtomically } from '../output-files.js';
import { loadPlugins } from '../plugins.js';
import { createProgress } from '../progress.js';
import { modelOf } from '../workload-spec.js';

export interface EvalKvOptions {
  readonly kv?: string;
  readonly kvBudget?: string;
  readonly kvParams?: string;
  readonly recipe?: string;
  readonly workload: string;
  readonly positions?: string;
  readonly continuation?: string;
  readonly greedy?: string;
  readonly out?: string;
  readonly json?: boolean;
  readonly backend: string;
  readonly plugin?: string[];
}

/**
 * `sparseland eval --kv a,b --kv-budget 0.1,0.25,0.5`: every KV policy at every budget against the full cache on a
 * real model (three passages): continuation NLL change, greedy agreement, decode attention recall, bytes held and
 * decode time per token; `--out` writes report.json, report.txt and quality-vs-memory SVG plots.
 */
export async function evalKvCommand(options: EvalKvOptions, out: (text: string) => void): Promise<void> {
  const model = modelOf(options.workload) as FixtureModelName | undefined;
  if (!model) throw new UsageError(`eval --kv runs on a real model: --workload tinybooks or stories, got ${quote(options.workload)}`);
  // Values and the destination are checked before any policy runs.
  const int = (text: string | undefined, what: string, max: number) => (text === undefined ? undefined : parseInteger(text, what, 1, max));
  const prompt = int(options.positions, '--positions', CLI_LIMITS.length);
  const continuation = int(options.continuation, '--continuation', CLI_LIMITS.length);
  const greedyTokens = int(options.greedy, '--greedy', CLI_LIMITS.greedy);
  if (options.out !== undefined) prepareOutputDir(options.out, '--out');
  const { registry } = await loadPlugins(options.plugin);
  const methods = kvMethods(options, registry);
  if (methods.length === 0) throw new UsageError('eval --kv needs KV policy names (or --recipe)');
  const backend = await chooseBackend(registry, options.backend);
  const progress = createProgress('kv', options.json === true);
  try {
    const report = await compareKvPolicies({
      model,
      methods,
      registry,
      backend,
      prompt,
      continuation,
      greedyTokens,
      onProgress: (done, total, label) => progress.update(done, total, label),
    });
    progress.stop();
    const text = formatKvReport(report);
    // Printed first: a failed write must not lose the result.
    out(options.json ? JSON.stringify(report, null, 2) : text);
    if (options.out) {
      const dir = options.out;
      writeFilesAtomically([
        { path: join(dir, 'report.json'), data: `${JSON.stringify(report, null, 2)}\n` },
        { path: join(dir, 'report.txt'), data: `${text}\n` },
        { path: join(dir, 'kv-recall-vs-memory.svg'), data: await kvTradeoffSvg(report, 'recall') },
        { path: join(dir, 'kv-nll-vs-memory.svg'), data: await kvTradeoffSvg(report, 'nllDelta') },
        { path: join(dir, 'kv-greedy-vs-memory.svg'), data: await kvTradeoffSvg(report, 'greedyAgreement') },
      ]);
    }
  } finally {
    progress.stop();
    await backend.dispose();
  }
}
