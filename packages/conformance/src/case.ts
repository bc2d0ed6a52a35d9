import type { Backend } from '@sparseland/core';
import { type CaseFilters, exclusionReason } from './filters.js';

/**
 * A conformance case about a plugin alone (its metadata, a pattern's fast builder against its MaskMod): a plain
 * async function that throws an Error naming what is wrong. Framework-free, so a browser page runs it as it is.
 */
export interface PluginCase {
  readonly name: string;
  run(): Promise<void>;
}

/** A conformance case that runs its subject on one backend; throws an Error naming what is wrong. */
export interface OnBackendCase {
  readonly name: string;
  run(backend: Backend): Promise<void>;
}

/** What running one case gave: the shape browser pages hand back to the vitest test that reads them. */
export interface CaseOutcome {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'excluded';
  /** The failure's message, or the exclusion's reason. */
  readonly detail?: string;
  readonly ms: number;
}

/**
 * Runs cases one after the other without a test framework: each excluded case (with its reason from `filters`),
 * passes, or fails with its message. `run` says how to run one case, e.g. `(c) => c.run(backend, tolerance)`.
 */
export async function runCases<C extends { readonly name: string }>(
  cases: readonly C[],
  run: (c: C) => Promise<void>,
  filters?: CaseFilters,
): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const c of cases) {
    const reason = exclusionReason(c.name, filters);
    if (reason !== undefined) {
      outcomes.push({ name: c.name, status: 'excluded', detail: reason, ms: 0 });
      continue;
    }
    const t0 = performance.now();
    try {
      await run(c);
      outcomes.push({ name: c.name, status: 'pass', ms: performance.now() - t0 });
    } catch (error) {
      outcomes.push({
        name: c.name,
        status: 'fail',
        detail: error instanceof Error ? error.message : String(error),
        ms: performance.now() - t0,
      });
    }
  }
  return outcomes;
}

/** The error a call throws (sync or async), or undefined when it returns: for the rejection cases. */
export async function thrown(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}
