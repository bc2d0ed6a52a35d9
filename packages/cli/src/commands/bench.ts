import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { quote } from '../cli-values.js';
import { UnavailableError, UsageError } from '../exit-codes.js';

export interface BenchOptions {
  readonly size: string;
}

const HOW_TO_GET_IT =
  'The CPU backend benchmark ships with the sparseland repository, not with the npm package. To run it:\n' +
  '  git clone https://github.com/sparseland/sparseland && cd sparseland && pnpm install\n' +
  '  pnpm --filter @sparseland/backend-cpu... build && pnpm --filter @sparseland/backend-cpu bench';

/** Where @sparseland/backend-cpu's benchmark lives, if this install has it (a workspace checkout). */
export function findCpuBenchmark(): { dir: string; script: string } | undefined {
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('@sparseland/backend-cpu/package.json'));
  } catch {
    return undefined;
  }
  const script = join(dir, 'bench', 'run.ts');
  return existsSync(script) ? { dir, script } : undefined;
}

/**
 * `sparseland bench`: runs the CPU backend's benchmark suite (tinybench medians, JSON in its bench-results/) with
 * the chosen size, passing extra arguments through. Exits with the benchmark's own status.
 */
export async function benchCommand(args: readonly string[], options: BenchOptions, out: (text: string) => void): Promise<number> {
  if (options.size !== 'smoke' && options.size !== 'full') throw new UsageError(`--size must be smoke or full, got ${quote(options.size)}`);
  const bench = findCpuBenchmark();
  if (!bench) throw new UnavailableError(`the CPU backend benchmark is not installed here.\n${HOW_TO_GET_IT}`);
  if (!existsSync(join(bench.dir, 'dist'))) {
    throw new UnavailableError(
      `the benchmark runs against the built package; build it first: pnpm --filter @sparseland/backend-cpu... build`,
    );
  }
  out(`running ${bench.script} (BENCH_SIZE=${options.size})`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', bench.script, ...args], {
      cwd: bench.dir,
      stdio: 'inherit',
      env: { ...process.env, BENCH_SIZE: options.size },
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}
