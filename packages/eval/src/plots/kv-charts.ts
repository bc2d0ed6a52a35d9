import type { TopLevelSpec } from 'vega-lite';
import type { KvCompareReport } from '../kv/kv-compare.js';
import { renderVegaLite } from './render-svg.js';

const TITLES = {
  recall: 'decode attention recall (mean)',
  nllDelta: 'continuation ΔNLL vs full cache (nats/token)',
  greedyAgreement: 'greedy tokens agreeing with the full cache (mean)',
} as const;

/**
 * Quality vs memory of a KV comparison: bytes held relative to the full cache (x) against recall, ΔNLL or greedy
 * agreement (y), one line per policy across its budgets (means over the passages).
 */
export function kvTradeoffSpec(report: KvCompareReport, metric: keyof typeof TITLES): TopLevelSpec {
  const policyOf = (method: string) => method.split(' ')[0] as string;
  const values = report.summary.map((s) => ({ policy: policyOf(s.method), setting: s.method, memory: s.bytesRatio, value: s[metric] }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${TITLES[metric]} vs memory: ${report.model}, ${report.prompt}-token prompts`,
    width: 440,
    height: 300,
    data: { values },
    mark: { type: 'line', point: { filled: true, size: 50 } },
    encoding: {
      x: {
        field: 'memory',
        type: 'quantitative',
        title: 'KV bytes held / full cache (policy state included)',
        scale: { domain: [0, 1.1] },
      },
      y: { field: 'value', type: 'quantitative', title: TITLES[metric] },
      color: { field: 'policy', type: 'nominal', title: 'policy' },
      order: { field: 'memory', type: 'quantitative' },
      tooltip: [{ field: 'setting' }, { field: 'memory' }, { field: 'value' }],
    },
  };
}

export function kvTradeoffSvg(report: KvCompareReport, metric: keyof typeof TITLES): Promise<string> {
  return renderVegaLite(kvTradeoffSpec(report, metric));
}
