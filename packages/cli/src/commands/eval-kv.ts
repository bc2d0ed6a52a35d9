import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareKvPolicies, type FixtureModelName, formatKvReport, kvTradeoffSvg } from '@sparseland/eval';
import { chooseBackend } from '../backend.js';
import { UsageError } from '../exit-codes.js';
import { kvMethods } from '../kv-spec.js';
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
  if (!model) throw new UsageError(`eval --kv runs on a real model: --workload tinybooks or stories, got "${options.workload}"`);
  const { registry } = await loadPlugins(options.plugin);
  const methods = kvMethods(options, registry);
  if (methods.length === 0) throw new UsageError('eval --kv needs KV policy names (or --recipe)');
  const int = (text: string | undefined, what: string) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be a positive integer, got "${text}"`);
    return n;
  };
  const backend = await chooseBackend(registry, options.backend);
  const progress = createProgress('kv', options.json === true);
  try {
    const report = await compareKvPolicies({
      model,
      methods,
      registry,
      backend,
      prompt: int(options.positions, '--positions'),
      continuation: int(options.continuation, '--continuation'),
      greedyTokens: int(options.greedy, '--greedy'),
      onProgress: (done, total, label) => progress.update(done, total, label),
    });
    progress.stop();
    const text = formatKvReport(report);
    if (options.out) {
      mkdirSync(options.out, { recursive: true });
      writeFileSync(join(options.out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      writeFileSync(join(options.out, 'report.txt'), `${text}\n`);
      writeFileSync(join(options.out, 'kv-recall-vs-memory.svg'), await kvTradeoffSvg(report, 'recall'));
      writeFileSync(join(options.out, 'kv-nll-vs-memory.svg'), await kvTradeoffSvg(report, 'nllDelta'));
      writeFileSync(join(options.out, 'kv-greedy-vs-memory.svg'), await kvTradeoffSvg(report, 'greedyAgreement'));
    }
    out(options.json ? JSON.stringify(report, null, 2) : text);
  } finally {
    progress.stop();
    await backend.dispose();
  }
}
