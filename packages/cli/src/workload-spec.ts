import type { Backend } from '@sparseland/core';
import { closestName } from '@sparseland/core/kit';
import { type FixtureModelName, mqarWorkload, realTraceWorkload, syntheticWorkload, type Workload } from '@sparseland/eval';
import { CLI_LIMITS, quote } from './cli-values.js';
import { UsageError } from './exit-codes.js';
import type { OwnFiles } from './own-files.js';

/** Workload names the CLI understands. */
export const WORKLOAD_HELP = 'tinybooks | stories | synthetic:<n> | mqar:<n>   (n like 4096, 4k or 32k)';

export interface WorkloadRequest {
  readonly spec: string;
  readonly positions?: number | undefined;
  readonly offset?: number | undefined;
  readonly seed: number;
  readonly backend: Backend;
  /** `--model` / `--text`: the user's model replaces the workload; the user's text replaces a real model's book. */
  readonly own?: OwnFiles;
}

/** The real model behind a workload name, if any (end-to-end runs need it). */
export function modelOf(spec: string): FixtureModelName | undefined {
  if (spec === 'tinybooks' || spec === 'tinybooks-2k') return 'tinybooks-2k';
  if (spec === 'stories' || spec === 'stories260K') return 'stories260K';
  return undefined;
}

/** `32k` → 32768, `4096` → 4096; 16 to CLI_LIMITS.length. */
export function parseLength(text: string, what: string): number {
  const m = /^(\d{1,9})(k?)$/i.exec(text.trim());
  const n = m ? Number(m[1]) * (m[2] ? 1024 : 1) : Number.NaN;
  if (!Number.isInteger(n) || n < 16 || n > CLI_LIMITS.length) {
    throw new UsageError(
      `${what}: expected a length like 4096, 4k or 32k, from 16 to ${CLI_LIMITS.length} (${CLI_LIMITS.length / 1024}k), got ${quote(text)}`,
    );
  }
  return n;
}

/** The names a workload may have, for suggestions. */
const WORKLOAD_NAMES = ['tinybooks', 'tinybooks-2k', 'stories', 'stories260K', 'synthetic:<n>', 'mqar:<n>'];

/**
 * Checks a workload name without building it, so every name of `--workload` is checked before any work starts:
 * a known model, or `synthetic:<n>` / `mqar:<n>` with exactly one length. Unknown names get the closest known one.
 */
export function checkWorkloadSpec(spec: string): void {
  if (spec.trim() === '') throw new UsageError(`--workload is empty; expected ${WORKLOAD_HELP}`);
  if (modelOf(spec)) return;
  const parts = spec.split(':');
  const [kind, size] = parts;
  if ((kind === 'synthetic' || kind === 'mqar') && parts.length === 2 && size) {
    parseLength(size, `${kind}:<n>`);
    return;
  }
  if ((kind === 'synthetic' || kind === 'mqar') && parts.length !== 2) {
    throw new UsageError(`workload ${quote(spec)}: ${kind} takes one length, as ${kind}:<n> (e.g. ${kind}:4k)`);
  }
  const suggestion = closestName(kind ?? spec, WORKLOAD_NAMES);
  throw new UsageError(`unknown workload ${quote(spec)}${suggestion ? `; did you mean "${suggestion}"?` : ''}; expected ${WORKLOAD_HELP}`);
}

/** The workload of a command: the user's model (`--model`) traced over its text, or the named workload. */
export async function createWorkload(request: WorkloadRequest): Promise<Workload> {
  const { spec, own } = request;
  const text = own?.text;
  const model = own?.model ?? modelOf(spec);
  if (model) {
    return realTraceWorkload({ model, text, positions: request.positions, offset: request.offset, backend: request.backend });
  }
  if (text)
    throw new UsageError(
      `--text is the passage a real model reads; the workload ${spec} makes its own input (use tinybooks, stories or --model)`,
    );
  checkWorkloadSpec(spec);
  const [kind, size] = spec.split(':') as [string, string];
  const n = parseLength(size, `${kind}:<n>`);
  return kind === 'synthetic' ? syntheticWorkload({ n, seed: request.seed }) : mqarWorkload({ n, seed: request.seed });
}
