import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const cwd = fileURLToPath(new URL('..', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real `sparseland` entry (TypeScript source through tsx, workspace packages from source) as a child process. */
export function runCli(args: readonly string[], options: { timeoutMs?: number } = {}): CliRun {
  const result = spawnSync(process.execPath, ['--conditions=@sparseland/source', '--import', 'tsx', bin, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 120_000,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
