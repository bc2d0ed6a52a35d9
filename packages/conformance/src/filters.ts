/** Excludes one case (or every case whose name matches) with the reason written down. */
export interface CaseExclusion {
  readonly match: string | RegExp;
  /** Why it cannot pass (a link to the issue, the hardware limit...). Shown as the skipped test's name. */
  readonly reason: string;
}

/**
 * Declarative case selection, as tfjs's test filters: `include` keeps only matching cases (default: all),
 * `excludes` drops matching cases with a reason each. Never an ad-hoc `skip` in a backend's own test file.
 */
export interface CaseFilters {
  readonly include?: readonly (string | RegExp)[];
  readonly excludes?: readonly CaseExclusion[];
}

function matches(name: string, m: string | RegExp): boolean {
  return typeof m === 'string' ? name.includes(m) : m.test(name);
}

/** `undefined` when the case runs, else the reason it is excluded. */
export function exclusionReason(name: string, filters: CaseFilters | undefined): string | undefined {
  if (!filters) return undefined;
  if (filters.include && !filters.include.some((m) => matches(name, m))) return 'not included by this run';
  for (const e of filters.excludes ?? []) {
    if (!e.reason || e.reason.trim().length === 0) throw new Error(`conformance filter ${String(e.match)} needs a written reason`);
    if (matches(name, e.match)) return e.reason;
  }
  return undefined;
}
