import type { Backend } from '@sparseland/core';
import { type FixtureModelName, mqarWorkload, realTraceWorkload, syntheticWorkload, type Workload } from '@sparseland/eval';
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

/** `32k` → 32768, `4096` → 4096. */
export function parseLength(text: string, what: string): number {
  const m = /^(\d+)(k?)$/i.exec(text.trim());
  const n = m ? Number(m[1]) * (m[2] ? 1024 : 1) : Number.NaN;
  if (!Number.isInteger(n) || n < 16) throw new UsageError(`${what}: expected a length like 4096, 4k or 32k (at least 16), got "${text}"`);
  return n;
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
  const [kind, size] = spec.split(':');
  if (kind === 'synthetic' && size) return syntheticWorkload({ n: parseLength(size, 'synthetic:<n>'), seed: request.seed });
  if (kind === 'mqar' && size) return mqarWorkload({ n: parseLength(size, 'mqar:<n>'), seed: request.seed });
  throw new UsageError(`unknown workload "${spec}"; expected ${WORKLOAD_HELP}`);
}
