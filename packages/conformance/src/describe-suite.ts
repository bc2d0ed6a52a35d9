import type { Backend } from '@sparseland/core';
import { afterAll, beforeAll, describe as vitestDescribe, it as vitestIt } from 'vitest';
import type { OnBackendCase, PluginCase } from './case.js';
import type { NamedBackend } from './conformance-options.js';
import { type CaseFilters, exclusionReason } from './filters.js';

/** What one `describe*` registers: cases about the subject alone, and cases run on each of its backends. */
export interface SuiteSpec {
  readonly title: string;
  readonly filters?: CaseFilters | undefined;
  /** Run once, before any backend is created. */
  readonly subjectCases: readonly PluginCase[];
  readonly backends: readonly NamedBackend[];
  /** The cases of one backend (a function, so a suite may add cases for some backends only). */
  readonly backendCases: (backend: NamedBackend) => readonly OnBackendCase[];
}

/** Registers an excluded case as a skipped test whose name carries the reason, or else as a test. */
function registerCase(name: string, filters: CaseFilters | undefined, run: () => Promise<void>): void {
  const reason = exclusionReason(name, filters);
  if (reason !== undefined) vitestIt.skip(`${name} (excluded: ${reason})`, () => {});
  else vitestIt(name, run);
}

/**
 * The one vitest shape of every `describe*`: a suite named after the subject, its own cases, then one block per
 * backend (`on <name>`) that creates the backend before its cases and disposes of it after them.
 */
export function describeSuite(spec: SuiteSpec): void {
  vitestDescribe(spec.title, () => {
    for (const c of spec.subjectCases) registerCase(c.name, spec.filters, () => c.run());
    for (const named of spec.backends) {
      vitestDescribe(`on ${named.name}`, () => {
        let backend: Backend | undefined;
        let failure: unknown;
        beforeAll(async () => {
          try {
            backend = await named.create();
          } catch (error) {
            failure = error;
          }
        });
        afterAll(async () => {
          await backend?.dispose();
        });
        for (const c of spec.backendCases(named)) {
          registerCase(c.name, spec.filters, async () => {
            if (!backend) throw new Error(`backend ${named.name} could not be created: ${String(failure)}`);
            await c.run(backend);
          });
        }
      });
    }
  });
}
