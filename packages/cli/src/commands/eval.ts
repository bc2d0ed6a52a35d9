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
import { CLI_LIMITS, parseInteger, parseSeed, quote } from '../cli-values.js';
import { UsageError } from '../exit-codes.js';
import { parseBlocks, parseMethodNames, parseParamsOption, resolveMethods } from '../method-spec.js';
import { prepareOutputDir, writeFilesAtomically } from '../output-files.js';
import { loadOwnFiles } from '../own-files.js';
import { loadPlugins } from '../plugins.js';
import { createProgress } from '../progress.js';
import { checkWorkloadSpec, createWorkload, modelOf, parseLength, WORKLOAD_HELP } from '../workload-spec.js';
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
  readonly blocks?: string;
  readonly model?: string;
  readonly tokenizer?: string;
  readonly text?: string;
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
  // Every value and destination is checked before anything is loaded, traced or measured.
  const blocks = options.blocks === undefined ? undefined : parseBlocks(options.blocks);
  const positions = options.positions === undefined ? undefined : parseLength(options.positions, '--positions');
  const offset = options.offset === undefined ? undefined : parseInteger(options.offset, '--offset', 0, CLI_LIMITS.offset);
  const seed = parseSeed(options.seed);
  const recallRows =
    options.rows === undefined || options.rows === 'all'
      ? (options.rows as 'all' | undefined)
      : parseInteger(options.rows, '--rows', 1, CLI_LIMITS.rows);
  const greedyTokens = options.greedy === undefined ? undefined : parseGreedy(options.greedy, positions);
  const lengths = options.lengths?.split(',').map((s) => parseLength(s, '--lengths'));
  if (lengths && !options.sweep) throw new UsageError('--lengths draws the speed plot of a sweep: add --sweep');
  const density = options.density === false ? undefined : fraction(options.density, '--density');
  if (options.model === undefined) {
    const given = options.workload.split(',').map((s) => s.trim());
    if (given.every((s) => s === '')) throw new UsageError(`--workload is empty; expected ${WORKLOAD_HELP}`);
    for (const spec of given.filter(Boolean)) checkWorkloadSpec(spec);
  }
  if (options.out !== undefined) prepareOutputDir(options.out, '--out');
  const own = await loadOwnFiles(options);
  const { registry } = await loadPlugins(options.plugin);
  const specs = own.model
    ? [own.model.name]
    : options.workload
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  const modelFor = (spec: string) => own.model ?? modelOf(spec);
  const allReal = specs.every((s) => modelFor(s) !== undefined);
  const names = parseMethodNames(options.methods ?? (allReal ? REAL_DEFAULT_METHODS : SYNTHETIC_DEFAULT_METHODS), registry);
  const params = parseParamsOption(options.params, names);
  const backend = await chooseBackend(registry, options.backend);
  const log = (text: string) => {
    if (!quiet) process.stderr.write(`${text}\n`);
  };
  try {
    log(`backend: ${backend.name} (${backend.impl})`);
    const workloads: Workload[] = [];
    for (const spec of specs) {
      log(`preparing workload ${spec}${modelFor(spec) ? ' (tracing the model densely)' : ''}...`);
      workloads.push(await createWorkload({ spec, own, positions, offset, seed, backend }));
    }
    const first = await firstItem(workloads[0] as Workload);
    const progress = createProgress('eval', quiet);
    const onProgress = (p: { done: number; total: number | undefined; method: string | undefined; workload: string }) =>
      progress.update(p.done, p.total, `${p.workload} ${p.method ?? ''}`);
    let report: EvalReport;
    let sweeps: SweepReport[] | undefined;
    let methods = await resolveMethods(names, params, registry, options.sweep ? undefined : density, first, {
      blocks,
      note: (text) => process.stderr.write(`note: ${text}\n`),
    });
    try {
      if (options.sweep) {
        sweeps = [];
        for (const name of names.filter((n) => n !== DENSE_METHOD)) {
          log(`sweeping ${name}...`);
          sweeps.push(
            await sweep({ method: name, params: params[name], workloads, registry, backend, recallRows, seed, onProgress, ...blocks }),
          );
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
        const model = modelFor(spec);
        if (!model || methods.length === 0) continue;
        log(
          `end to end on ${typeof model === 'string' ? model : model.name} (dense + ${methods.length} method${methods.length > 1 ? 's' : ''})...`,
        );
        const bar = createProgress('end-to-end', quiet);
        try {
          endToEndReports.push(
            await endToEnd({
              model,
              // The user's text is read from --offset on; an embedded model's own held-out passage otherwise.
              ...(own.text ? { text: own.text, offset } : {}),
              positions,
              greedyTokens,
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
    // Printed first: a failed write must not lose the result.
    out(options.json ? JSON.stringify(result, null, 2) : text.join('\n\n'));
    if (options.out) {
      const files = await writeOutputs(options.out, result, text.join('\n\n'), report, speed, backend.name, options.sweep === true);
      log(`wrote ${files.join(', ')}`);
    }
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
  const files = [
    { path: join(dir, 'report.json'), data: `${JSON.stringify(result, null, 2)}\n` },
    { path: join(dir, 'report.txt'), data: `${text}\n` },
  ];
  if (plots) {
    for (const w of report.workloads) {
      const path = join(dir, `density-recall-${w.name.replace(/[^A-Za-z0-9._-]+/g, '_')}.svg`);
      files.push({ path, data: await densityRecallSvg(report, w.name) });
    }
  }
  if (speed) files.push({ path: join(dir, 'speed-vs-length.svg'), data: await speedSvg(speed, backend) });
  writeFilesAtomically(files);
  return files.map((f) => f.path);
}

async function firstItem(workload: Workload) {
  for await (const item of eachItem(workload)) return item;
  throw new UsageError(`workload ${workload.name} has no items`);
}

function fraction(text: string, what: string): number {
  const x = Number(text);
  if (!(x > 0 && x <= 1)) throw new UsageError(`${what} must be a number in (0, 1], got ${quote(text)}`);
  return x;
}

/** `--greedy`: 1 to CLI_LIMITS.greedy, and at most positions − 2 when --positions is given (one scored token stays). */
function parseGreedy(text: string, positions: number | undefined): number {
  const most = positions === undefined ? CLI_LIMITS.greedy : Math.min(CLI_LIMITS.greedy, positions - 2);
  return parseInteger(text, positions === undefined ? '--greedy' : `--greedy (with --positions ${positions})`, 1, most);
}
