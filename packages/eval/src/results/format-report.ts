import type { EndToEndReport, EndToEndResult } from '../end-to-end.js';
import { type Column, formatTable } from './text-table.js';
import type { EvalReport, MethodResult } from './types.js';

const gflop = (flops: number) => flops / 1e9;

const COLUMNS: readonly Column<MethodResult>[] = [
  { header: 'workload', cell: (r) => r.workload },
  { header: 'method', cell: (r) => r.method },
  { header: 'density', cell: (r) => r.summary.density },
  { header: 'recall', cell: (r) => r.summary.recallMean },
  { header: 'recall min', cell: (r) => r.summary.recallMin },
  { header: 'out err', cell: (r) => r.summary.outputError },
  { header: 'needles', cell: (r) => (r.summary.needles ? `${r.summary.needleHits}/${r.summary.needles}` : null) },
  { header: 'GFLOP est', cell: (r) => gflop(r.summary.flops.estimate), digits: 3 },
  { header: 'GFLOP attn', cell: (r) => gflop(r.summary.flops.attend), digits: 3 },
  { header: 'ms est', cell: (r) => r.summary.ms.estimate, digits: 0 },
  { header: 'ms attn', cell: (r) => r.summary.ms.attend, digits: 0 },
];

/** The report's summary (one row per method × workload) as a plain-text table, with what was measured where. */
export function formatEvalReport(report: EvalReport): string {
  const header = report.workloads.map((w) => {
    const rows = w.rowsMeasured.length ? Math.min(...w.rowsMeasured) : 0;
    const measured = rows >= w.length ? 'all rows' : `${rows}+ sampled rows per item`;
    return `# ${w.name}: ${w.description} (${w.items} item${w.items === 1 ? '' : 's'}, ${measured})`;
  });
  return [
    ...header,
    `# backend ${report.backend.name} (${report.backend.impl}); density counted against the ${report.causal ? 'causal' : 'full'} mask`,
    formatTable(COLUMNS, report.results),
  ].join('\n');
}

/** Per-head rows of one method on one workload (for `--heads`). */
export function formatHeads(result: MethodResult): string {
  return formatTable(
    [
      { header: 'layer', cell: (h) => h.layer },
      { header: 'head', cell: (h) => h.head },
      { header: 'density', cell: (h) => h.density },
      { header: 'recall', cell: (h) => h.recallMean },
      { header: 'recall min', cell: (h) => h.recallMin },
      { header: 'out err', cell: (h) => h.outputError },
      { header: 'needles', cell: (h) => (h.needles ? `${h.needleHits}/${h.needles}` : null) },
    ],
    result.heads,
  );
}

/** An end-to-end report as a table: NLL change, next-token and greedy agreement per method. */
export function formatEndToEnd(report: EndToEndReport): string {
  const head =
    `# end to end: ${report.model} on ${report.text} from character ${report.offset}, ${report.scored} scored tokens + ${report.greedyTokens} greedy; ` +
    `dense NLL ${report.dense.nll.toFixed(4)} nats/token (perplexity ${report.dense.perplexity.toFixed(2)})${report.extrapolated ? '; past the trained context' : ''}`;
  return [
    head,
    formatTable<EndToEndResult>(
      [
        { header: 'method', cell: (r) => r.method },
        { header: 'density', cell: (r) => r.density },
        { header: 'NLL', cell: (r) => r.nll, digits: 4 },
        { header: 'ΔNLL mean', cell: (r) => r.nllDelta, digits: 4 },
        { header: 'ΔNLL max', cell: (r) => r.nllDeltaMax, digits: 3 },
        { header: 'next-token agree', cell: (r) => r.nextTokenAgreement },
        { header: 'greedy agree', cell: (r) => `${r.greedyAgreement}/${report.greedyTokens}` },
        { header: 'prefill ms', cell: (r) => r.prefillMs, digits: 0 },
      ],
      report.results,
    ),
  ].join('\n');
}
