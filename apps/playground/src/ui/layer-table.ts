import type { LayerSummary } from '../engine/protocol.js';
import { h, replaceChildren } from './dom.js';
import { fixed, gflop, ms } from './format.js';
import { Progress } from './progress.js';

/** Per-layer numbers of A and B over the whole model, measured on request (each layer needs its dense oracle). */
export class LayerTable {
  readonly element: HTMLElement;
  readonly progress = new Progress('per-layer progress');
  private readonly body: HTMLElement;

  constructor(onMeasure: () => void) {
    this.body = h('div', { class: 'layer-body' });
    this.element = h(
      'section',
      { class: 'panel layers', attrs: { 'aria-labelledby': 'layers-title' } },
      h('h2', { id: 'layers-title' }, 'Every layer'),
      h('button', { id: 'measure-layers', attrs: { type: 'button' }, on: { click: onMeasure } }, 'Measure every layer'),
      this.progress.element,
      this.body,
    );
  }

  clear(): void {
    replaceChildren(this.body);
  }

  update(results: { slot: 'A' | 'B'; label: string; layers: readonly LayerSummary[] }[]): void {
    const cols = ['density', 'recall', 'recall min', 'out err', 'GFLOP', 'ms'];
    replaceChildren(
      this.body,
      h(
        'div',
        { class: 'table-scroll' },
        h(
          'table',
          {},
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { attrs: { rowspan: 2 } }, 'layer'),
              ...results.map((r) =>
                h('th', { class: `slot-${r.slot.toLowerCase()}`, attrs: { colspan: cols.length } }, `${r.slot}: ${r.label}`),
              ),
            ),
            h('tr', {}, ...results.flatMap(() => cols.map((c) => h('th', {}, c)))),
          ),
          h(
            'tbody',
            {},
            ...(results[0]?.layers ?? []).map((_, l) =>
              h(
                'tr',
                {},
                h('th', { attrs: { scope: 'row' } }, String(l)),
                ...results.flatMap((r) => {
                  const s = r.layers[l];
                  if (!s) return cols.map(() => h('td', {}, '…'));
                  return [
                    fixed(s.density),
                    fixed(s.recallMean),
                    fixed(s.recallMin),
                    fixed(s.outputError),
                    gflop(s.flopsEstimate + s.flopsAttend),
                    ms(s.estimateMs + s.attendMs),
                  ].map((t) => h('td', { class: `slot-${r.slot.toLowerCase()}` }, t));
                }),
              ),
            ),
          ),
        ),
      ),
    );
  }
}
