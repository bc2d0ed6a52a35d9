import { attention, type Backend, compileRecipe, type Registry, SparselandError } from '@sparseland/core';
import { expectInteger, expectSeed } from '@sparseland/core/kit';
import { WORKLOAD_LIMITS } from './limits.js';
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
  // Every length and the seed are checked before anything is generated or timed.
  const lengths = options.lengths.map((n, i) => expectInteger(n, `lengths[${i}]`, 16, WORKLOAD_LIMITS.length));
  const seed = expectSeed(options.seed ?? 0);
  const runs = Math.max(5, expectInteger(options.runs ?? 5, 'runs', 1, 1000));
  const compiled = options.methods.map((m) => ({ label: m.label, recipe: compileRecipe(m.recipe, options.registry) }));
  const out: SpeedResult[] = [];
  const total = lengths.length * compiled.length;
  for (const n of lengths) {
    const [item] = await collectItems(
      syntheticWorkload({
        n,
        heads: options.heads,
        kvHeads: options.kvHeads,
        dim: options.dim,
        seed,
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
