import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DENSE_METHOD } from '@sparseland/core';
import {
  densityRecallSvg,
  type EndToEndReport,
  type EvalReport,
  eachItem,
  endToEnd,
  evaluateMethods,
  formatEndToEnd,
  formatEvalReport,
  formatHeads,
  mergeReports,
  type SpeedResult,
  type SweepReport,
  speedSvg,
  speedVsLength,
  sweep,
  type Workload,
} from '@sparseland/eval';
import { chooseBackend } from '../backend.js';
import { UsageError } from '../exit-codes.js';
import { parseMethodNames, parseParamsOption, resolveMethods } from '../method-spec.js';
import { loadPlugins } from '../plugins.js';
import { createProgress } from '../progress.js';
import { createWorkload, modelOf, parseLength } from '../workload-spec.js';
import { evalKvCommand } from './eval-kv.js';

export interface EvalOptions {
  readonly methods?: string;
  readonly workload: string;
  readonly positions?: string;
  readonly offset?: string;
  readonly density: string | false;
  readonly params?: string;
  readonly rows?: string;
  readonly sweep?: boolean;
  readonly lengths?: string;
  readonly out?: string;
  readonly json?: boolean;
  readonly backend: string;
  readonly endToEnd: boolean;
  readonly greedy?: string;
  readonly seed: string;
  readonly heads?: boolean;
  readonly plugin?: string[];
  readonly kv?: string;
  readonly kvBudget?: string;
  readonly kvParams?: string;
  readonly recipe?: string;
  readonly continuation?: string;
}

/** Everything one `sparseland eval` run measured (what `--json` prints and `--out` writes as report.json). */
export interface CliReport {
  readonly eval: EvalReport;
  readonly sweeps?: readonly Omit<SweepReport, 'report'>[];
  readonly endToEnd?: readonly EndToEndReport[];
  readonly speed?: readonly SpeedResult[];
}

const REAL_DEFAULT_METHODS = 'dense,sliding-window,a-shape,tri-shape';
const SYNTHETIC_DEFAULT_METHODS = 'sliding-window,a-shape,tri-shape';

export async function evalCommand(options: EvalOptions, out: (text: string) => void): Promise<void> {
  if (options.kv !== undefined || options.recipe !== undefined) return evalKvCommand(options, out);
  const quiet = options.json === true;
  const { registry } = await loadPlugins(options.plugin);
  const specs = options.workload
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const allReal = specs.every((s) => modelOf(s) !== undefined);
  const names = parseMethodNames(options.methods ?? (allReal ? REAL_DEFAULT_METHODS : SYNTHETIC_DEFAULT_METHODS), registry);
  const params = parseParamsOption(options.params, names);
  const density = options.density === false ? undefined : fraction(options.density, '--density');
  const positions = options.positions === undefined ? undefined : parseLength(options.positions, '--positions');
  const offset = options.offset === undefined ? undefined : nonNegative(options.offset, '--offset');
  const seed = nonNegative(options.seed, '--seed');
  const recallRows =
    options.rows === undefined || options.rows === 'all' ? (options.rows as 'all' | undefined) : positive(options.rows, '--rows');
  const lengths = options.lengths?.split(',').map((s) => parseLength(s, '--lengths'));
  if (lengths && !options.sweep) throw new UsageError('--lengths draws the speed plot of a sweep: add --sweep');
  const backend = await chooseBackend(registry, options.backend);
  const log = (text: string) => {
    if (!quiet) process.stderr.write(`${text}\n`);
  };
  try {
    log(`backend: ${backend.name} (${backend.impl})`);
    const workloads: Workload[] = [];
    for (const spec of specs) {
      log(`preparing workload ${spec}${modelOf(spec) ? ' (tracing the model densely)' : ''}...`);
      workloads.push(await createWorkload({ spec, positions, offset, seed, backend }));
    }
    const first = await firstItem(workloads[0] as Workload);
    const progress = createProgress('eval', quiet);
    const onProgress = (p: { done: number; total: number | undefined; method: string | undefined; workload: string }) =>
      progress.update(p.done, p.total, `${p.workload} ${p.method ?? ''}`);
    let report: EvalReport;
    let sweeps: SweepReport[] | undefined;
    let methods = await resolveMethods(names, params, registry, options.sweep ? undefined : density, first);
    try {
      if (options.sweep) {
        sweeps = [];
        for (const name of names.filter((n) => n !== DENSE_METHOD)) {
          log(`sweeping ${name}...`);
          sweeps.push(await sweep({ method: name, params: params[name], workloads, registry, backend, recallRows, seed, onProgress }));
        }
        const denseSpec = methods.filter((m) => m.label === DENSE_METHOD);
        const dense = denseSpec.length
          ? [await evaluateMethods({ methods: denseSpec, workloads, registry, backend, recallRows, seed })]
          : [];
        report = mergeReports([...dense, ...sweeps.map((s) => s.report)]);
      } else {
        report = await evaluateMethods({ methods, workloads, registry, backend, recallRows, seed, onProgress });
      }
    } finally {
      progress.stop();
    }
    const endToEndReports: EndToEndReport[] = [];
    if (options.endToEnd && !options.sweep) {
      methods = methods.filter((m) => m.label !== DENSE_METHOD);
      for (const spec of specs) {
        const model = modelOf(spec);
        if (!model || methods.length === 0) continue;
        log(`end to end on ${model} (dense + ${methods.length} method${methods.length > 1 ? 's' : ''})...`);
        const bar = createProgress('end-to-end', quiet);
        try {
          endToEndReports.push(
            await endToEnd({
              model,
              positions,
              greedyTokens: options.greedy === undefined ? undefined : positive(options.greedy, '--greedy'),
              methods,
              registry,
              backend,
              onProgress: (done, total, label) => bar.update(done, total, label),
            }),
          );
        } finally {
          bar.stop();
        }
      }
    }
    let speed: SpeedResult[] | undefined;
    if (lengths) {
      log(`timing ${methods.length} methods at lengths ${lengths.join(', ')}...`);
      speed = await speedVsLength({ methods, lengths, registry, backend, seed });
    }
    const result: CliReport = {
      eval: report,
      ...(sweeps ? { sweeps: sweeps.map(({ report: _r, ...rest }) => rest) } : {}),
      ...(endToEndReports.length ? { endToEnd: endToEndReports } : {}),
      ...(speed ? { speed } : {}),
    };
    const text = [formatEvalReport(report), ...endToEndReports.map(formatEndToEnd)];
    if (options.heads) for (const r of report.results) text.push(`\n# ${r.method} on ${r.workload}, per head\n${formatHeads(r)}`);
    if (options.out) {
      const files = await writeOutputs(options.out, result, text.join('\n\n'), report, speed, backend.name, options.sweep === true);
      log(`wrote ${files.join(', ')}`);
    }
    out(options.json ? JSON.stringify(result, null, 2) : text.join('\n\n'));
  } finally {
    await backend.dispose();
  }
}

async function writeOutputs(
  dir: string,
  result: CliReport,
  text: string,
  report: EvalReport,
  speed: SpeedResult[] | undefined,
  backend: string,
  plots: boolean,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'report.json'), join(dir, 'report.txt')];
  writeFileSync(files[0] as string, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(files[1] as string, `${text}\n`);
  if (plots) {
    for (const w of report.workloads) {
      const file = join(dir, `density-recall-${w.name.replace(/[^A-Za-z0-9._-]+/g, '_')}.svg`);
      writeFileSync(file, await densityRecallSvg(report, w.name));
      files.push(file);
    }
  }
  if (speed) {
    const file = join(dir, 'speed-vs-length.svg');
    writeFileSync(file, await speedSvg(speed, backend));
    files.push(file);
  }
  return files;
}

async function firstItem(workload: Workload) {
  for await (const item of eachItem(workload)) return item;
  throw new UsageError(`workload ${workload.name} has no items`);
}

function fraction(text: string, what: string): number {
  const x = Number(text);
  if (!(x > 0 && x <= 1)) throw new UsageError(`${what} must be a number in (0, 1], got "${text}"`);
  return x;
}

function nonNegative(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what} must be an integer >= 0, got "${text}"`);
  return n;
}

function positive(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${what} must be an integer >= 1, got "${text}"`);
  return n;
}
