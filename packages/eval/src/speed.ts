import { attention, type Backend, compileRecipe, type Registry, SparselandError } from '@sparseland/core';
import { expectInteger } from '@sparseland/core/kit';
import type { SpeedRecord } from './plots/charts.js';
import type { MethodSpec } from './results/types.js';
import { type SyntheticStructure, syntheticWorkload } from './workloads/synthetic.js';
import { collectItems } from './workloads/workload.js';

export interface SpeedOptions {
  readonly methods: readonly MethodSpec[];
  /** Sequence lengths to time at (synthetic inputs with planted structure). */
  readonly lengths: readonly number[];
  readonly registry: Registry;
  readonly backend: Backend;
  /** Timed runs per point (median reported, at least 5). */
  readonly runs?: number;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly dim?: number;
  readonly seed?: number;
  readonly structure?: Partial<SyntheticStructure>;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface SpeedResult extends SpeedRecord {
  readonly minMs: number;
  readonly runs: number;
  readonly estimateMs: number;
  readonly attendMs: number;
  readonly density: number;
}

/**
 * Times each method (mask building + attention, through `attention()`) on synthetic inputs of each length: the data
 * of a speed vs sequence length plot. Medians of `runs` runs after one warm-up; ratios between methods are only
 * meaningful within one call (same machine, same moment).
 */
export async function speedVsLength(options: SpeedOptions): Promise<SpeedResult[]> {
  if (!options.lengths?.length) throw new SparselandError('E_PARAMS', 'speedVsLength: lengths must be a non-empty array');
  const runs = Math.max(5, expectInteger(options.runs ?? 5, 'runs', 1));
  const compiled = options.methods.map((m) => ({ label: m.label, recipe: compileRecipe(m.recipe, options.registry) }));
  const out: SpeedResult[] = [];
  const total = options.lengths.length * compiled.length;
  for (const n of options.lengths) {
    const [item] = await collectItems(
      syntheticWorkload({
        n,
        heads: options.heads,
        kvHeads: options.kvHeads,
        dim: options.dim,
        seed: options.seed ?? 0,
        structure: { needles: 0, ...options.structure },
      }),
    );
    if (!item) continue;
    for (const { label, recipe } of compiled) {
      const call = () => attention(item, { recipe, backend: options.backend, checkFinite: false });
      const first = await call();
      const times: { total: number; estimate: number; attend: number }[] = [];
      for (let r = 0; r < runs; r++) {
        const res = await call();
        times.push({ total: res.stats.estimateMs + res.stats.attendMs, estimate: res.stats.estimateMs, attend: res.stats.attendMs });
      }
      times.sort((a, b) => a.total - b.total);
      const median = times[Math.floor(times.length / 2)]!;
      out.push({
        method: label,
        n,
        medianMs: median.total,
        minMs: times[0]!.total,
        runs,
        estimateMs: median.estimate,
        attendMs: median.attend,
        density: first.stats.density,
      });
      options.onProgress?.(out.length, total);
    }
  }
  return out;
}
