import { formatTable } from '../results/text-table.js';
import type { KvCompareReport, KvResult, KvSummary } from './kv-compare.js';

/** The text report of a KV comparison: per method means over the passages, then every (method, passage). */
export function formatKvReport(report: KvCompareReport): string {
  const head =
    `# KV policies on ${report.model}: ${report.texts.length} passages, ${report.prompt}-token prompts, ${report.continuation} scored continuation tokens, ` +
    `${report.greedyTokens} greedy tokens; backend ${report.backend.name} (${report.backend.impl})${report.extrapolated ? '; decoding runs past the trained context' : ''}`;
  const full = report.texts.map((t) => `${t.text}@${t.offset}: NLL ${t.nll.toFixed(4)}, ${t.msPerToken.toFixed(1)} ms/token`).join('; ');
  return [
    head,
    `full cache: ${full}`,
    '',
    formatTable<KvSummary>(
      [
        { header: 'method', cell: (r) => r.method },
        { header: 'bytes / full', cell: (r) => r.bytesRatio },
        { header: 'ΔNLL', cell: (r) => r.nllDelta, digits: 4 },
        { header: 'greedy agree (mean / min)', cell: (r) => `${r.greedyAgreement.toFixed(1)} / ${r.greedyAgreementMin}` },
        { header: 'recall (mean / worst text)', cell: (r) => `${r.recall.toFixed(3)} / ${r.recallWorstText.toFixed(3)}` },
        { header: 'ms/token', cell: (r) => r.msPerToken, digits: 1 },
      ],
      report.summary,
    ),
    '',
    formatTable<KvResult>(
      [
        { header: 'method', cell: (r) => r.method },
        { header: 'passage', cell: (r) => `${r.text}@${r.offset}` },
        { header: 'bytes / full', cell: (r) => r.bytesRatio },
        { header: 'ΔNLL', cell: (r) => r.nllDelta, digits: 4 },
        { header: 'greedy', cell: (r) => `${r.greedyAgreement}/${report.greedyTokens}` },
        { header: 'recall', cell: (r) => r.recall },
        { header: 'recall min', cell: (r) => r.recallMin },
      ],
      report.results,
    ),
  ].join('\n');
}
