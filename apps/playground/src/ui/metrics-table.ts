import type { HeadMetrics, LayerSummary, MethodResult } from '../engine/protocol.js';
import { h, replaceChildren } from './dom.js';
import { fixed, gflop, ms } from './format.js';

const COLUMNS: readonly { key: keyof HeadMetrics & keyof LayerSummary; label: string; show: (v: number) => string }[] = [
  { key: 'density', label: 'density', show: (v) => fixed(v) },
  { key: 'recallMean', label: 'recall', show: (v) => fixed(v) },
  { key: 'recallMin', label: 'recall min', show: (v) => fixed(v) },
  { key: 'outputError', label: 'out err', show: (v) => fixed(v) },
  { key: 'flopsEstimate', label: 'GFLOP est', show: gflop },
  { key: 'flopsAttend', label: 'GFLOP attn', show: gflop },
];

/**
 * Per-head and per-layer numbers of methods A and B on the current layer, as `evaluateMethods` counts them: density
 * of the causal mask, attention recall (mean and min over rows), relative output error, FLOPs, and the layer's
 * estimation and attention times on the chosen backend. Each cell carries its exact value in data-value.
 */
export class MetricsTable {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;

  constructor() {
    this.body = h('div', { class: 'metrics-body' });
    this.element = h(
      'section',
      { class: 'panel metrics', attrs: { 'aria-label': 'numbers per head and per layer' } },
      h('h2', {}, 'What it keeps, costs and changes'),
      this.body,
    );
  }

  update(results: { slot: 'A' | 'B'; label: string; result: MethodResult | undefined; error?: string }[], head: number): void {
    const shown = results.filter((r) => r.result || r.error);
    if (shown.length === 0) {
      replaceChildren(this.body, h('p', { class: 'muted' }, 'Numbers appear once the layer is measured.'));
      return;
    }
    const header1 = h(
      'tr',
      {},
      h('th', { attrs: { rowspan: 2, scope: 'col' } }, 'head'),
      ...shown.map((r) =>
        h('th', { class: `slot-${r.slot.toLowerCase()}`, attrs: { colspan: COLUMNS.length, scope: 'colgroup' } }, `${r.slot}: ${r.label}`),
      ),
    );
    const header2 = h('tr', {}, ...shown.flatMap(() => COLUMNS.map((c) => h('th', { attrs: { scope: 'col' } }, c.label))));
    const heads = Math.max(0, ...shown.map((r) => r.result?.perHead.length ?? 0));
    const rows: HTMLElement[] = [];
    for (let hd = 0; hd < heads; hd++) {
      rows.push(
        h(
          'tr',
          { class: hd === head ? 'current' : '', dataset: { head: String(hd) } },
          h('th', { attrs: { scope: 'row' } }, String(hd)),
          ...shown.flatMap((r) => cells(r.slot, r.result?.perHead[hd], String(hd))),
        ),
      );
    }
    rows.push(
      h(
        'tr',
        { class: 'layer-row', dataset: { head: 'layer' } },
        h('th', { attrs: { scope: 'row' } }, 'layer'),
        ...shown.flatMap((r) => cells(r.slot, r.result?.summary, 'layer')),
      ),
    );
    const notes = shown.map((r) =>
      r.error
        ? h('p', { class: 'error', dataset: { slot: r.slot } }, `${r.slot}: ${r.error}`)
        : r.result
          ? h(
              'p',
              { class: 'timing', dataset: { slot: r.slot, maskHash: r.result.maskHash } },
              `${r.slot} on ${r.result.backend}: estimate ${ms(r.result.summary.estimateMs)} ms, attention ${ms(r.result.summary.attendMs)} ms for the layer (all heads in one call) · mask fingerprint `,
              h('code', { class: 'mask-hash' }, r.result.maskHash),
            )
          : null,
    );
    replaceChildren(
      this.body,
      h('div', { class: 'table-scroll' }, h('table', {}, h('thead', {}, header1, header2), h('tbody', {}, ...rows))),
      ...notes,
    );
  }
}

function cells(slot: 'A' | 'B', values: HeadMetrics | LayerSummary | undefined, head: string): HTMLElement[] {
  return COLUMNS.map((c) => {
    const v = values?.[c.key];
    return h(
      'td',
      { class: `slot-${slot.toLowerCase()}`, dataset: v === undefined ? {} : { slot, metric: c.key, head, value: String(v) } },
      v === undefined ? '…' : c.show(v),
    );
  });
}
