import { type Backend, type Registry, SparselandError } from '@sparseland/core';
import { expectSeed } from '@sparseland/core/kit';
import { budgetParam, matchDensity } from './budget.js';
import { type EvalProgress, evaluateMethods } from './evaluate.js';
import type { EvalReport, MethodSpec } from './results/types.js';
import { eachItem, type Workload } from './workloads/workload.js';

/** Densities a sweep aims at when no values are given: a geometric ladder from 1/32 to 1/2. */
export const DEFAULT_SWEEP_DENSITIES: readonly number[] = [1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2];

export interface SweepOptions {
  /** A registered pattern or estimator. */
  readonly method: string;
  /** The budget parameter (default: the one the plugin declares, see `budgetParam`). */
  readonly param?: string;
  /** Values to try; default: the values that reach `densities` on the first item of the first workload. */
  readonly values?: readonly number[];
  readonly densities?: readonly number[];
  /** Other parameters of the method, held fixed. */
  readonly params?: Readonly<Record<string, unknown>>;
  readonly workloads: readonly Workload[];
  readonly registry: Registry;
  readonly backend: Backend;
  readonly recallRows?: number | 'all';
  readonly seed?: number;
  readonly causal?: boolean;
  /** Block sizes of every point's recipe (default: a recipe's, 64 × 64). */
  readonly blockQ?: number;
  readonly blockK?: number;
  readonly onProgress?: (progress: EvalProgress) => void;
}

/** One point of a sweep: the parameter value and the label its results carry in the report. */
export interface SweepPoint {
  readonly value: number;
  readonly label: string;
  /** The density aimed at, when values were found by density matching. */
  readonly targetDensity?: number;
}

export interface SweepReport {
  readonly kind: 'sparseland-sweep';
  readonly method: string;
  readonly param: string;
  readonly points: readonly SweepPoint[];
  /** The evaluation of every point; each result's `group` is the method name (one curve per method in plots). */
  readonly report: EvalReport;
}

/**
 * Runs a method across its budget parameter and evaluates every setting on every workload: the data of a density vs
 * recall Pareto front. Without `values`, each target density is matched by bisection on the first workload item.
 */
export async function sweep(options: SweepOptions): Promise<SweepReport> {
  // Checked before any density matching runs.
  if (options.seed !== undefined) expectSeed(options.seed);
  const param = budgetParam(options.registry, options.method, options.param).name;
  const points: SweepPoint[] = [];
  const label = (value: number) => `${options.method} ${param}=${formatValue(value)}`;
  if (options.values) {
    if (options.values.length === 0) throw new SparselandError('E_PARAMS', 'sweep: values must not be empty');
    for (const value of options.values) points.push({ value, label: label(value) });
  } else {
    const first = options.workloads[0];
    if (!first) throw new SparselandError('E_PARAMS', 'sweep: workloads must not be empty');
    let item: Awaited<ReturnType<ReturnType<typeof eachItem>['next']>>['value'];
    for await (const it of eachItem(first)) {
      item = it;
      break;
    }
    if (!item) throw new SparselandError('E_PARAMS', `sweep: workload "${first.name}" has no items`);
    const seen = new Set<number>();
    for (const target of options.densities ?? DEFAULT_SWEEP_DENSITIES) {
      const matched = await matchDensity({
        registry: options.registry,
        method: options.method,
        param: options.param,
        params: options.params,
        target,
        item,
        backend: options.backend,
        causal: options.causal,
        blockQ: options.blockQ,
        blockK: options.blockK,
      });
      if (seen.has(matched.value)) continue;
      seen.add(matched.value);
      points.push({ value: matched.value, label: label(matched.value), targetDensity: target });
    }
  }
  const methods: MethodSpec[] = points.map((p) => ({
    label: p.label,
    group: options.method,
    recipe: {
      blockQ: options.blockQ,
      blockK: options.blockK,
      default: { method: options.method, params: { ...options.params, [param]: p.value } },
    },
  }));
  const report = await evaluateMethods({
    methods,
    workloads: options.workloads,
    registry: options.registry,
    backend: options.backend,
    recallRows: options.recallRows,
    seed: options.seed,
    causal: options.causal,
    onProgress: options.onProgress,
  });
  return { kind: 'sparseland-sweep', method: options.method, param, points, report };
}

/** Integers as they are, other numbers with 3 significant digits. */
export function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(3);
}

/** One report with the results of several (sweep or evaluation) reports over the same workloads. */
export function mergeReports(reports: readonly EvalReport[]): EvalReport {
  const first = reports[0];
  if (!first) throw new SparselandError('E_PARAMS', 'mergeReports: no report given');
  return {
    ...first,
    methods: reports.flatMap((r) => r.methods),
    results: reports.flatMap((r) => r.results),
  };
}
