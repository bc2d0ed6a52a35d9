import type { TopLevelSpec } from 'vega-lite';
import type { EvalReport } from '../results/types.js';
import { paretoFront } from './pareto.js';
import { renderVegaLite } from './render-svg.js';

/** One timing of a method at a sequence length (see `speedVsLength`). */
export interface SpeedRecord {
  readonly method: string;
  readonly n: number;
  readonly medianMs: number;
}

/**
 * Density vs recall on one workload: every (method, setting) as a dot, and each method's Pareto front as a line.
 * The spec is plain Vega-Lite (useful in notebooks and the playground); `densityRecallSvg` renders it.
 */
export function densityRecallSpec(report: EvalReport, workload: string): TopLevelSpec {
  const rows = report.results
    .filter((r) => r.workload === workload)
    .map((r) => ({ method: r.group, setting: r.method, density: r.summary.density, recall: r.summary.recallMean }));
  const groups = [...new Set(rows.map((r) => r.method))];
  const front = groups.flatMap((g) => paretoFront(rows.filter((r) => r.method === g)).map((p, order) => ({ ...p, order })));
  const x = { field: 'density', type: 'quantitative' as const, title: 'density (kept / causal pairs)', scale: { domain: [0, 1] } };
  const y = { field: 'recall', type: 'quantitative' as const, title: 'attention recall (mean)', scale: { domain: [0, 1] } };
  const color = { field: 'method', type: 'nominal', title: 'method' } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Density vs recall: ${workload}`,
    width: 420,
    height: 300,
    layer: [
      {
        data: { values: front },
        mark: { type: 'line', point: false },
        encoding: { x, y, color, order: { field: 'order', type: 'quantitative' } },
      },
      {
        data: { values: rows },
        mark: { type: 'point', filled: true, size: 50 },
        encoding: { x, y, color, tooltip: [{ field: 'setting' }, { field: 'density' }, { field: 'recall' }] },
      },
    ],
  };
}

export function densityRecallSvg(report: EvalReport, workload: string): Promise<string> {
  return renderVegaLite(densityRecallSpec(report, workload));
}

/** Attention time vs sequence length, one line per method, log-log. */
export function speedSpec(records: readonly SpeedRecord[], backend: string): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Attention time vs sequence length (${backend})`,
    width: 420,
    height: 300,
    data: { values: records.map((r) => ({ ...r })) },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'n', type: 'quantitative', title: 'sequence length', scale: { type: 'log', base: 2 } },
      y: { field: 'medianMs', type: 'quantitative', title: 'median ms (mask + attention)', scale: { type: 'log' } },
      color: { field: 'method', type: 'nominal', title: 'method' },
    },
  };
}

export function speedSvg(records: readonly SpeedRecord[], backend: string): Promise<string> {
  return renderVegaLite(speedSpec(records, backend));
}
