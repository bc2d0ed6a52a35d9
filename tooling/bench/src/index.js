// @ts-check
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Bench } from 'tinybench';

/**
 * `BENCH_SIZE=smoke` (what CI runs so benchmarks cannot rot) or `full` (default): each suite picks its sizes.
 * @returns {'smoke' | 'full'}
 */
export function benchSize() {
  return process.env.BENCH_SIZE === 'smoke' ? 'smoke' : 'full';
}

/**
 * Times `fn` with tinybench: `warmups` untimed calls, then exactly `runs` timed calls (medians need >= 5).
 * @param {() => unknown} fn
 * @param {{ runs?: number; warmups?: number }} [options]
 * @returns {Promise<{ medianMs: number; minMs: number; maxMs: number; runs: number }>}
 */
export async function measure(fn, options = {}) {
  const runs = Math.max(5, options.runs ?? 5);
  const bench = new Bench({
    iterations: runs,
    time: 0,
    warmup: (options.warmups ?? 1) > 0,
    warmupIterations: options.warmups ?? 1,
    warmupTime: 0,
    throws: true,
  });
  bench.add('case', fn);
  await bench.run();
  const result = /** @type {any} */ (bench.tasks[0]?.result);
  if (!result || !('latency' in result)) throw new Error(`benchmark did not complete: ${result?.state ?? 'no result'}`);
  return {
    medianMs: result.latency.p50,
    minMs: result.latency.min,
    maxMs: result.latency.max,
    runs: result.latency.samplesCount,
  };
}

/** GFLOP/s of `flops` done in `ms` milliseconds. */
export function gflops(flops, ms) {
  return ms > 0 ? flops / ms / 1e6 : 0;
}

const COLUMNS = /** @type {const} */ ([
  ['case', 44],
  ['backend', 9],
  ['impl', 8],
  ['threads', 7],
  ['n', 7],
  ['qHeads', 6],
  ['kvHeads', 7],
  ['dim', 4],
  ['density', 8],
  ['medianMs', 10],
  ['minMs', 9],
  ['gflops', 8],
]);

function cell(value) {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return String(value);
    return Math.abs(value) >= 100 ? value.toFixed(1) : Math.abs(value) >= 1 ? value.toFixed(2) : value.toPrecision(3);
  }
  return value === undefined || value === null ? '' : String(value);
}

/**
 * A plain-text table of records (every column the JSON has that the table knows, plus `note`).
 * @param {Record<string, unknown>[]} records
 */
export function formatTable(records) {
  const head = COLUMNS.map(([name, width]) => name.padEnd(width)).join(' ');
  const lines = records.map(
    (r) =>
      COLUMNS.map(([name, width]) => {
        const text = cell(r[name]);
        return name === 'case' ? text.slice(0, width).padEnd(width) : text.padStart(width);
      }).join(' ') + (r.note ? `  ${r.note}` : ''),
  );
  return [head, '-'.repeat(head.length), ...lines].join('\n');
}

/**
 * The machine a run is on, as every record of it says: numbers from another CPU (or another core count) are not
 * comparable (this project's 2-core VM has been a 3.55 GHz Zen 4 and a 2.1 GHz Xeon).
 * @returns {{ cpu: string; cores: number; node: string }}
 */
export function machine() {
  return { cpu: cpus()[0]?.model.trim() ?? 'unknown', cores: availableParallelism(), node: process.version };
}

/**
 * Writes `bench-results/<suite>.json` (in the current package) and prints the table. Each record gets the
 * `machine` it ran on.
 * @param {string} suite
 * @param {Record<string, unknown>[]} records
 * @param {{ dir?: string }} [options]
 */
export function writeSuite(suite, records, options = {}) {
  const dir = options.dir ?? join(process.cwd(), 'bench-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${suite}.json`);
  const on = machine();
  const withSuite = records.map((r) => ({ suite, ...r, machine: on }));
  writeFileSync(file, `${JSON.stringify(withSuite, null, 2)}\n`);
  console.log(`\n# ${suite} (${benchSize()} size, node ${on.node}, ${on.cpu}, ${on.cores} cores)`);
  console.log(formatTable(withSuite));
  console.log(`wrote ${file}`);
  return file;
}
