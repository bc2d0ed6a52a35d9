// The one call site of the density-vs-recall sweep and of budget-parameter inference. Plugins are getting a declared
// `budget` parameter; when they do, `budgetParam` reads it and nothing here changes.
import type { Backend, Registry } from '@sparseland/core';
import { budgetParam, sweep } from '@sparseland/eval';
import type { TraceItem } from '../engine/protocol.js';
import type { SweepPointResult, SweepResult } from './protocol.js';

/** The parameter a sweep varies for `method`, or undefined when the method has none (e.g. `full`). */
export function sweepParam(registry: Registry, method: string): string | undefined {
  try {
    return budgetParam(registry, method).name;
  } catch {
    return undefined;
  }
}

export interface DensitySweepOptions {
  readonly traces: readonly TraceItem[];
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly densities: readonly number[];
  readonly registry: Registry;
  readonly backend: Backend;
  readonly onProgress: (done: number, total: number | undefined, message: string) => void;
}

/**
 * Matches each target density by bisection on the first layer, then measures every point on every layer (eval's
 * `sweep`): one curve of mean recall against density.
 */
export async function runDensitySweep(options: DensitySweepOptions): Promise<SweepResult> {
  const { method, registry } = options;
  const params = { ...options.params };
  const param = budgetParam(registry, method).name;
  delete params[param];
  const report = await sweep({
    method,
    params,
    densities: options.densities,
    workloads: [{ name: 'passage', description: 'the page’s passage', size: options.traces.length, items: [...options.traces] }],
    registry,
    backend: options.backend,
    onProgress: (p) => options.onProgress(p.done, p.total, `${p.method ?? ''}: layer ${p.item + 1}`),
  });
  const points: SweepPointResult[] = report.points.map((point) => {
    const r = report.report.results.find((x) => x.method === point.label);
    if (!r) throw new Error(`the sweep report has no result for ${point.label}`);
    return {
      label: point.label,
      param,
      value: point.value,
      density: r.summary.density,
      recallMean: r.summary.recallMean,
      recallMin: r.summary.recallMin,
      outputError: r.summary.outputError,
      recipe: { method, params: { ...params, [param]: point.value } },
    };
  });
  return { kind: 'sweep', method, param, points };
}
