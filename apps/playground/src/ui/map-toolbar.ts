import type { ModelInfo } from '../engine/protocol.js';
import { h, replaceChildren } from './dom.js';
import { KEPT_COLOUR } from './heatmap.js';

/** Layer and head pickers, zoom buttons and the legend above the maps. */
export class MapToolbar {
  readonly element: HTMLElement;
  private readonly layer: HTMLSelectElement;
  private readonly head: HTMLSelectElement;

  constructor(handlers: { layer(l: number): void; head(h: number): void; zoom(factor: number | null): void }) {
    this.layer = h('select', { id: 'layer', on: { change: () => handlers.layer(Number(this.layer.value)) } });
    this.head = h('select', { id: 'head', on: { change: () => handlers.head(Number(this.head.value)) } });
    const button = (id: string, label: string, title: string, factor: number | null) =>
      h('button', { id, title, attrs: { type: 'button', 'aria-label': title }, on: { click: () => handlers.zoom(factor) } }, label);
    this.element = h(
      'div',
      { class: 'toolbar', role: 'toolbar', attrs: { 'aria-label': 'attention map controls' } },
      h('label', { attrs: { for: 'layer' } }, 'layer', this.layer),
      h('label', { attrs: { for: 'head' } }, 'head', this.head),
      button('zoom-in', '+', 'zoom in', 0.5),
      button('zoom-out', '−', 'zoom out', 2),
      button('zoom-reset', 'whole map', 'show the whole map', null),
      h(
        'span',
        { class: 'legend' },
        h('span', { class: 'swatch grey' }),
        'rows: queries, columns: keys; dense softmax (log scale) ',
        h('span', { class: 'swatch', attrs: { style: `background:${KEPT_COLOUR}` } }),
        'kept by the method',
      ),
    );
  }

  update(info: ModelInfo | undefined, layer: number, head: number): void {
    const options = (n: number, prefix: string) =>
      Array.from({ length: n }, (_, i) => h('option', { attrs: { value: i } }, `${prefix}${i}`));
    replaceChildren(this.layer, ...options(info?.layers ?? 0, ''));
    replaceChildren(this.head, ...options(info?.heads ?? 0, ''));
    this.layer.value = String(layer);
    this.head.value = String(head);
  }
}
