import type { MethodRecipe } from '@sparseland/core';
import { defaultCandidates, eachItem, findMethod, formatTable, searchRecipe } from '@sparseland/eval';
import { chooseBackend } from '../backend.js';
import { CLI_LIMITS, parseInteger, parseSeed, quote } from '../cli-values.js';
import { UnavailableError, UsageError } from '../exit-codes.js';
import { parseBlocks } from '../method-spec.js';
import { checkOutputFile, writeFilesAtomically } from '../output-files.js';
import { loadOwnFiles } from '../own-files.js';
import { loadPlugins } from '../plugins.js';
import { checkWorkloadSpec, createWorkload, parseLength } from '../workload-spec.js';

export interface SearchCommandOptions {
  readonly workload: string;
  readonly positions?: string;
  readonly offset?: string;
  readonly budget: string;
  readonly methods?: string;
  readonly candidates?: string;
  readonly blocks: string;
  readonly objective: string;
  readonly cost: string;
  readonly rows?: string;
  readonly out?: string;
  readonly json?: boolean;
  readonly backend: string;
  readonly seed: string;
  readonly plugin?: string[];
  readonly model?: string;
  readonly tokenizer?: string;
  readonly text?: string;
}

/**
 * `sparseland search`: the offline per-head search. Calibrates every candidate on the workload's traces, picks one per
 * (layer, head) under the mean-density budget, prints the choice per head and writes the recipe JSON that
 * `attention()`, model sessions and `sparseland eval` load.
 */
export async function searchCommand(options: SearchCommandOptions, out: (text: string) => void): Promise<void> {
  const budget = Number(options.budget);
  if (!(budget > 0 && budget <= 1)) throw new UsageError(`--budget must be a fraction in (0, 1], got ${quote(options.budget)}`);
  const { blockQ, blockK } = parseBlocks(options.blocks);
  if (options.objective !== 'recall' && options.objective !== 'output-error') {
    throw new UsageError(`--objective must be recall or output-error, got ${quote(options.objective)}`);
  }
  if (options.cost !== 'density' && options.cost !== 'flops')
    throw new UsageError(`--cost must be density or flops, got ${quote(options.cost)}`);
  const rows = options.rows === undefined ? undefined : parseInteger(options.rows, '--rows', 1, CLI_LIMITS.rows);
  const positions = options.positions === undefined ? undefined : parseLength(options.positions, '--positions');
  const offset = options.offset === undefined ? undefined : parseInteger(options.offset, '--offset', 0, CLI_LIMITS.offset);
  const seed = parseSeed(options.seed);
  if (options.model === undefined) checkWorkloadSpec(options.workload);
  if (options.out !== undefined) checkOutputFile(options.out, '--out');
  const own = await loadOwnFiles(options);
  const { registry } = await loadPlugins(options.plugin);
  const backend = await chooseBackend(registry, options.backend);
  const quiet = options.json === true;
  const log = (text: string) => {
    if (!quiet) process.stderr.write(`${text}\n`);
  };
  try {
    log(`backend: ${backend.name} (${backend.impl}); tracing ${own.model?.name ?? options.workload}...`);
    const workload = await createWorkload({
      spec: options.workload,
      own,
      positions,
      offset,
      seed,
      backend,
    });
    let length = 0;
    for await (const item of eachItem(workload)) {
      length = item.k.length;
      break;
    }
    const candidates = readCandidates(options, length, registry);
    log(`searching ${candidates.length} candidates per head under a mean density of ${budget}...`);
    const result = await searchRecipe({
      traces: workload,
      candidates,
      budget,
      registry,
      backend,
      blockQ,
      blockK,
      objective: options.objective,
      cost: options.cost,
      rows,
      seed,
      onProgress: log,
    });
    if (options.out) writeFilesAtomically([{ path: options.out, data: `${JSON.stringify(result.recipe, null, 2)}\n` }]);
    if (options.json) {
      out(JSON.stringify({ recipe: result.recipe, summary: result.summary, heads: result.heads }, null, 2));
      return;
    }
    out(
      formatTable(
        [
          { header: 'layer', cell: (h) => String(h.layer) },
          { header: 'head', cell: (h) => String(h.head) },
          { header: 'method', cell: (h) => `${h.recipe.method} ${JSON.stringify(h.recipe.params ?? {})}` },
          { header: 'density', cell: (h) => h.point.density.toFixed(3) },
          { header: 'recall', cell: (h) => h.point.recall.toFixed(4) },
        ],
        result.heads,
      ),
    );
    out(
      `\nmean over heads on the calibration traces: density ${result.summary.density.toFixed(4)}, recall ${result.summary.recall.toFixed(4)}`,
    );
    if (options.out) out(`wrote ${options.out}`);
  } finally {
    await backend.dispose();
  }
}

/** Candidates from `--candidates <json>` (a list of {method, params}), else the default grid, optionally filtered by `--methods`. */
function readCandidates(options: SearchCommandOptions, length: number, registry: Parameters<typeof findMethod>[0]): MethodRecipe[] {
  let candidates: MethodRecipe[];
  if (options.candidates !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(options.candidates);
    } catch (error) {
      throw new UsageError(`--candidates must be a JSON list of {"method", "params"}: ${(error as Error).message}`);
    }
    if (!Array.isArray(parsed) || parsed.some((c) => typeof c !== 'object' || c === null || typeof c.method !== 'string')) {
      throw new UsageError('--candidates must be a JSON list of {"method", "params"}');
    }
    candidates = parsed as MethodRecipe[];
  } else {
    candidates = defaultCandidates(length);
    const missing = [...new Set(candidates.map((c) => c.method))].filter((m) => m !== 'dense' && !registry.has('estimator', m));
    if (missing.length) {
      throw new UnavailableError(
        `the default candidate grid uses ${missing.join(', ')} from @sparseland/estimators, which is not installed; add it or pass --candidates`,
      );
    }
  }
  if (options.methods !== undefined) {
    const names = options.methods.split(',').map((s) => s.trim());
    for (const name of names) if (name !== 'dense') findMethod(registry, name);
    candidates = candidates.filter((c) => names.includes(c.method));
    if (candidates.length === 0) throw new UsageError(`--methods ${quote(options.methods)} leaves no candidate`);
  }
  return candidates;
}
