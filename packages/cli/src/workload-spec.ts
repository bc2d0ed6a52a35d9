import type { Backend } from '@sparseland/core';
import { type FixtureModelName, mqarWorkload, realTraceWorkload, syntheticWorkload, type Workload } from '@sparseland/eval';
import { UsageError } from './exit-codes.js';

/** Workload names the CLI understands. */
export const WORKLOAD_HELP = 'tinybooks | stories | synthetic:<n> | mqar:<n>   (n like 4096, 4k or 32k)';

export interface WorkloadRequest {
  readonly spec: string;
  readonly positions?: number | undefined;
  readonly offset?: number | undefined;
  readonly seed: number;
  readonly backend: Backend;
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

export async function createWorkload(request: WorkloadRequest): Promise<Workload> {
  const { spec } = request;
  const model = modelOf(spec);
  if (model) {
    return realTraceWorkload({ model, positions: request.positions, offset: request.offset, backend: request.backend });
  }
  const [kind, size] = spec.split(':');
  if (kind === 'synthetic' && size) return syntheticWorkload({ n: parseLength(size, 'synthetic:<n>'), seed: request.seed });
  if (kind === 'mqar' && size) return mqarWorkload({ n: parseLength(size, 'mqar:<n>'), seed: request.seed });
  throw new UsageError(`unknown workload "${spec}"; expected ${WORKLOAD_HELP}`);
}
