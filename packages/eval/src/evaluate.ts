import {
  attention,
  attentionFlops,
  type Backend,
  type CompiledRecipe,
  compileRecipe,
  type Registry,
  SparselandError,
} from '@sparseland/core';
import { expectInteger, expectSeed, resolveAttentionShape } from '@sparseland/core/kit';
import { type HeadMeasurement, measureItem, relativeError, sumHeadMeasurements } from './metrics/item-metrics.js';
import { computeDenseOracle } from './oracle/dense-oracle.js';
import { defaultRowCount, sampleRows } from './oracle/row-sample.js';
import type { EvalReport, HeadResult, MethodResult, MethodSpec, ResultSummary, WorkloadSummary } from './results/types.js';
import { eachItem, type Workload, workloadSize } from './workloads/workload.js';

/** Progress of a long evaluation, for progress bars. */
export interface EvalProgress {
  readonly workload: string;
  /** Items finished in this workload, and how many there are (when known). */
  readonly item: number;
  readonly items: number | undefined;
  /** Method runs finished overall, and how many there will be (when every workload's size is known). */
  readonly done: number;
  readonly total: number | undefined;
  readonly method: string | undefined;
}

export interface EvaluateOptions {
  readonly methods: readonly MethodSpec[];
  readonly workloads: readonly Workload[];
  readonly registry: Registry;
  /** Where masks are built and attention runs (and is timed). The dense oracle is always the float64 reference. */
  readonly backend: Backend;
  /** Query rows measured per item: a count (sampled evenly, seeded) or 'all'. Default: all rows up to a memory budget. */
  readonly recallRows?: number | 'all';
  readonly seed?: number;
  /** Default true. */
  readonly causal?: boolean;
  readonly onProgress?: (progress: EvalProgress) => void;
}

/**
 * Runs every method on every workload item through `attention()` on the given backend and measures it against exact
 * dense attention: per method × workload × head density, recall (mean, min), output error, needle hit rate, FLOPs
 * (estimation and attention separately) and wall time. Needle rows are always among the measured rows.
 */
export async function evaluateMethods(options: EvaluateOptions): Promise<EvalReport> {
  const { methods, workloads, registry, backend } = validate(options);
  const causal = options.causal ?? true;
  const seed = expectSeed(options.seed ?? 0);
  const compiled = methods.map((m, i) => ({ spec: m, recipe: compileWithLabel(m, i, registry) }));
  const sizes = workloads.map(workloadSize);
  const total = sizes.every((s) => s !== undefined) ? sizes.reduce((a, b) => (a ?? 0) + (b ?? 0), 0)! * methods.length : undefined;
  let done = 0;
  const results: MethodResult[] = [];
  const summaries: WorkloadSummary[] = [];
  for (const [w, workload] of workloads.entries()) {
    const perMethod = compiled.map(() => ({
      heads: [] as HeadResult[],
      measured: [] as HeadMeasurement[],
      flops: { estimate: 0, attend: 0 },
      ms: { estimate: 0, attend: 0 },
    }));
    const rowsMeasured: number[] = [];
    let shapeSeen: WorkloadSummary | undefined;
    let index = 0;
    for await (const item of eachItem(workload)) {
      const input = { q: item.q, k: item.k, v: item.v, qOffset: item.qOffset };
      const shape = resolveAttentionShape(input);
      const required = (item.needles ?? []).map((n) => n.qRow);
      const count = resolveRowCount(options.recallRows, shape.heads, shape.qLength, shape.kvLength);
      const rows = sampleRows(shape.qLength, count, seed + index, required);
      rowsMeasured.push(rows.length);
      shapeSeen ??= {
        name: workload.name,
        description: workload.description,
        items: 0,
        heads: shape.heads,
        kvHeads: shape.kvHeads,
        dim: shape.dim,
        length: shape.kvLength,
        rowsMeasured,
      };
      const oracle = computeDenseOracle(input, shape, rows, causal);
      for (const [m, { spec, recipe }] of compiled.entries()) {
        const run = await attention(input, { recipe, backend, causal, layer: item.layer, seed, returnStats: false, checkFinite: false });
        const measured = measureItem(oracle, run.mask, run.output, item.needles);
        const acc = perMethod[m]!;
        const estimatePerHead = run.stats.flops.estimate / shape.heads;
        for (const hm of measured) {
          acc.measured.push(hm);
          acc.heads.push(headResult(index, item.layer, hm, shape.dim, estimatePerHead));
        }
        acc.flops.estimate += run.stats.flops.estimate;
        acc.flops.attend += measured.reduce((a, hm) => a + attentionFlops(hm.keptPairs, shape.dim), 0);
        acc.ms.estimate += run.stats.estimateMs;
        acc.ms.attend += run.stats.attendMs;
        done++;
        options.onProgress?.({ workload: workload.name, item: index, items: sizes[w], done, total, method: spec.label });
      }
      index++;
    }
    if (!shapeSeen) throw new SparselandError('E_PARAMS', `workload "${workload.name}" has no items`);
    summaries.push({ ...shapeSeen, items: index });
    for (const [m, { spec }] of compiled.entries()) {
      const acc = perMethod[m]!;
      results.push({
        method: spec.label,
        group: spec.group ?? spec.label,
        workload: workload.name,
        summary: summarize(acc.measured, acc.flops, acc.ms, shapeSeen.dim),
        heads: acc.heads,
      });
    }
  }
  return {
    kind: 'sparseland-eval',
    version: 1,
    createdAt: new Date().toISOString(),
    backend: { name: backend.name, impl: backend.impl },
    causal,
    seed,
    methods: methods.map((m) => ({ label: m.label, recipe: typeof m.recipe === 'string' ? JSON.parse(m.recipe) : m.recipe })),
    workloads: summaries,
    results,
  };
}

function validate(options: EvaluateOptions): EvaluateOptions {
  if (typeof options !== 'object' || options === null) throw new SparselandError('E_PARAMS', 'evaluateMethods: expected an options object');
  if (!Array.isArray(options.methods) || options.methods.length === 0) {
    throw new SparselandError('E_PARAMS', 'evaluateMethods: methods must be a non-empty array of {label, recipe}');
  }
  const labels = new Set<string>();
  for (const m of options.methods) {
    if (typeof m?.label !== 'string' || m.label.length === 0) {
      throw new SparselandError('E_PARAMS', `evaluateMethods: every method needs a non-empty label, got ${JSON.stringify(m)}`);
    }
    if (labels.has(m.label))
      throw new SparselandError('E_PARAMS', `evaluateMethods: method labels must be unique, "${m.label}" appears twice`);
    labels.add(m.label);
  }
  if (!Array.isArray(options.workloads) || options.workloads.length === 0) {
    throw new SparselandError('E_PARAMS', 'evaluateMethods: workloads must be a non-empty array');
  }
  if (!options.registry || typeof options.registry.get !== 'function') {
    throw new SparselandError('E_PARAMS', 'evaluateMethods: registry must come from createRegistry({plugins})');
  }
  if (!options.backend || typeof options.backend.attend !== 'function') {
    throw new SparselandError('E_PARAMS', 'evaluateMethods: backend must be a Backend (e.g. createReferenceBackend())');
  }
  return options;
}

function compileWithLabel(spec: MethodSpec, index: number, registry: Registry): CompiledRecipe {
  try {
    return compileRecipe(spec.recipe, registry);
  } catch (error) {
    if (error instanceof SparselandError) {
      throw new SparselandError(error.code, `method ${index} ("${spec.label}"): ${error.reason}`, {
        ...error.details,
        method: spec.label,
      });
    }
    throw error;
  }
}

function resolveRowCount(recallRows: number | 'all' | undefined, heads: number, qLength: number, kvLength: number): number {
  if (recallRows === 'all') return qLength;
  if (recallRows === undefined) return defaultRowCount(heads, qLength, kvLength);
  return expectInteger(recallRows, 'recallRows', 1);
}

function headResult(item: number, layer: number, hm: HeadMeasurement, dim: number, estimate: number): HeadResult {
  return {
    item,
    layer,
    head: hm.head,
    density: hm.densePairs === 0 ? 0 : hm.keptPairs / hm.densePairs,
    recallMean: hm.rows ? hm.recallSum / hm.rows : 1,
    recallMin: hm.recallMin,
    outputError: relativeError(hm.errorSquared, hm.normSquared),
    needles: hm.needles,
    needleHits: hm.needleHits,
    needleHitRate: hm.needles ? hm.needleHits / hm.needles : null,
    flops: { estimate, attend: attentionFlops(hm.keptPairs, dim) },
  };
}

function summarize(
  measured: readonly HeadMeasurement[],
  flops: { estimate: number; attend: number },
  ms: { estimate: number; attend: number },
  dim: number,
): ResultSummary {
  const t = sumHeadMeasurements(measured);
  return {
    density: t.densePairs === 0 ? 0 : t.keptPairs / t.densePairs,
    recallMean: t.rows ? t.recallSum / t.rows : 1,
    recallMin: Number.isFinite(t.recallMin) ? t.recallMin : 1,
    outputError: relativeError(t.errorSquared, t.normSquared),
    needles: t.needles,
    needleHits: t.needleHits,
    needleHitRate: t.needles ? t.needleHits / t.needles : null,
    flops: {
      estimate: flops.estimate,
      attend: flops.attend,
      total: flops.estimate + flops.attend,
      dense: attentionFlops(t.densePairs, dim),
    },
    ms: { estimate: ms.estimate, attend: ms.attend, total: ms.estimate + ms.attend },
  };
}
