import * as Plot from '@observablehq/plot';
import type { MapView } from '../state/app-state.js';
import { h, replaceChildren } from './dom.js';
import { poolCells } from './map-cells.js';
import { type Lut, lutOf, MAP_DOMAIN, paintCells } from './map-paint.js';
import { tokenLabel } from './token-labels.js';
import { fullView, isFull, pan, zoomAt } from './zoom.js';

export interface HeatmapData {
  readonly probs: Float32Array;
  readonly n: number;
  /** Kept pairs of the method drawn over the map (absent: dense). */
  readonly mask: Uint8Array | undefined;
  readonly pieces: readonly string[];
}

/** Colour of the kept pairs drawn over the greyscale map. */
export const KEPT_COLOUR = '#e8590c';
const KEPT_RGB: readonly [number, number, number] = [0xe8, 0x59, 0x0c];

/** The map's colour scale (also drawn as the legend). */
export const MAP_COLOUR = { type: 'log', domain: [...MAP_DOMAIN], scheme: 'greys', clamp: true } as const;

let greyLut: Lut | undefined;
function greys(): Lut {
  if (!greyLut) {
    const scale = Plot.scale({ color: MAP_COLOUR });
    greyLut = lutOf((v) => String(scale.apply(v)));
  }
  return greyLut;
}
/** Token labels on the axes from this many visible tokens down. */
const LABEL_TOKENS = 48;
/** The passage under the map from this many visible tokens down. */
const TEXT_TOKENS = 400;

/**
 * One attention map (queries down, keys across, log-scaled softmax in grey) with a method's kept pairs in orange
 * over it, drawn with Observable Plot's raster mark. Zoom with the wheel, +/− and the arrow keys (the figure is
 * focusable), drag to pan, 0 to reset; zoomed in, the axes show the tokens and the passage is printed underneath.
 */
export class Heatmap {
  readonly element: HTMLElement;
  private readonly plotBox: HTMLElement;
  private readonly caption: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly passage: HTMLElement;
  private data: HeatmapData | undefined;
  private view: MapView | undefined;
  private plot: ((SVGSVGElement | HTMLElement) & { scale?: (name: string) => { range?: number[] } | undefined }) | undefined;
  private drag: { x: number; y: number; view: MapView } | undefined;

  constructor(
    readonly title: string,
    private readonly onView: (view: MapView | null) => void,
  ) {
    this.caption = h('figcaption', {}, title);
    this.plotBox = h('div', { class: 'plot' });
    this.readout = h('p', { class: 'readout', attrs: { 'aria-live': 'polite' } });
    this.passage = h('p', { class: 'passage' });
    this.element = h(
      'figure',
      {
        class: 'heatmap',
        attrs: {
          tabindex: 0,
          'aria-label': `${title}: attention map. Plus and minus zoom, arrow keys pan, 0 resets.`,
          'aria-keyshortcuts': '+ - 0 ArrowLeft ArrowRight ArrowUp ArrowDown',
        },
        on: { keydown: (e) => this.key(e as KeyboardEvent) },
      },
      this.caption,
      this.plotBox,
      this.readout,
      this.passage,
    );
    // Redraw at the new width when the layout changes (B shown or hidden, window resized, phone rotated).
    let width = 0;
    new ResizeObserver(() => {
      const w = this.plotBox.clientWidth;
      if (w !== width && this.data) {
        width = w;
        this.render();
      }
      width = w;
    }).observe(this.plotBox);
    this.plotBox.addEventListener('wheel', (e) => this.wheel(e), { passive: false });
    this.plotBox.addEventListener('pointerdown', (e) => this.down(e));
    this.plotBox.addEventListener('pointermove', (e) => this.move(e));
    this.plotBox.addEventListener('pointerup', () => (this.drag = undefined));
    this.plotBox.addEventListener('pointerleave', () => (this.drag = undefined));
  }

  setCaption(...parts: (string | Node)[]): void {
    replaceChildren(this.caption, ...parts);
  }

  /** Whether the map on screen is this one (same probabilities). */
  shows(probs: Float32Array): boolean {
    return this.data?.probs === probs;
  }

  /** Redraws what is on screen at another zoom. */
  setView(view: MapView | null): void {
    if (!this.data) return;
    const next = view ?? fullView(this.data.n);
    const now = this.view;
    if (now && now.x0 === next.x0 && now.x1 === next.x1 && now.y0 === next.y0 && now.y1 === next.y1) return;
    this.view = next;
    this.render();
  }

  update(data: HeatmapData | undefined, view: MapView | null): void {
    this.data = data;
    this.view = data ? (view ?? fullView(data.n)) : undefined;
    this.render();
  }

  private render(): void {
    const { data, view } = this;
    if (!data || !view) {
      replaceChildren(this.plotBox, h('div', { class: 'placeholder' }, 'waiting for the model…'));
      return;
    }
    const width = Math.max(260, Math.min(560, this.plotBox.clientWidth || 480));
    const margin = { top: 6, right: 6, bottom: 34, left: 44 };
    const inner = width - margin.left - margin.right;
    const cells = poolCells(data.probs, data.n, data.mask, view, inner, inner);
    const labelled = view.x1 - view.x0 <= LABEL_TOKENS && view.y1 - view.y0 <= LABEL_TOKENS;
    const centres = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i + 0.5);
    const label = (d: number) => tokenLabel(data.pieces[Math.floor(d)] ?? '');
    // The axes and frame are Observable Plot's; the cells are painted into a canvas under them (Plot's raster mark
    // encodes a PNG per draw, too slow for 2,048² maps).
    const plot = Plot.plot({
      width,
      height: inner + margin.top + margin.bottom,
      marginTop: margin.top,
      marginRight: margin.right,
      marginBottom: margin.bottom,
      marginLeft: margin.left,
      style: { fontSize: '11px', background: 'transparent', overflow: 'visible' },
      x: {
        domain: [view.x0, view.x1],
        label: 'key position →',
        ...(labelled ? { ticks: centres(view.x0, view.x1), tickFormat: label, tickSize: 2 } : { ticks: 5, tickFormat: 'd' }),
      },
      y: {
        domain: [view.y0, view.y1],
        reverse: true,
        label: null,
        ...(labelled ? { ticks: centres(view.y0, view.y1), tickFormat: label, tickSize: 2 } : { ticks: 5, tickFormat: 'd' }),
      },
      marks: [Plot.frame({ stroke: '#888' })],
    });
    const canvas = h('canvas', { class: 'cells', attrs: { width: cells.cols, height: cells.rows, 'aria-hidden': 'true' } });
    Object.assign(canvas.style, { left: `${margin.left}px`, top: `${margin.top}px`, width: `${inner}px`, height: `${inner}px` });
    const context = canvas.getContext('2d');
    if (context) {
      const image = context.createImageData(cells.cols, cells.rows);
      paintCells(cells, greys(), KEPT_RGB, image.data);
      context.putImageData(image, 0, 0);
    }
    this.plot = plot as typeof this.plot;
    replaceChildren(this.plotBox, canvas, plot);
    this.renderPassage(data, view);
  }

  private renderPassage(data: HeatmapData, view: MapView): void {
    if (view.x1 - view.x0 > TEXT_TOKENS) {
      replaceChildren(this.passage);
      return;
    }
    const text = (a: number, b: number) => data.pieces.slice(a, b).join('');
    replaceChildren(this.passage, h('span', { class: 'passage-label' }, `keys ${view.x0}–${view.x1 - 1}: `), text(view.x0, view.x1));
  }

  /** The token coordinates under a pointer event, if over the plot area. */
  private at(e: MouseEvent): { k: number; q: number } | undefined {
    const { view, plot } = this;
    const x = plot?.scale?.('x')?.range;
    const y = plot?.scale?.('y')?.range;
    if (!view || !plot || !x || !y || x.length < 2 || y.length < 2) return undefined;
    const rect = (plot as Element).getBoundingClientRect();
    const px = e.clientX - rect.left;
    const py = e.clientY - rect.top;
    const [xa, xb] = x as [number, number];
    const [ya, yb] = y as [number, number];
    const fx = (px - xa) / (xb - xa);
    const fy = (py - Math.min(ya, yb)) / Math.abs(yb - ya);
    if (fx < 0 || fx > 1 || fy < 0 || fy > 1) return undefined;
    return { k: view.x0 + fx * (view.x1 - view.x0), q: view.y0 + fy * (view.y1 - view.y0) };
  }

  private wheel(e: WheelEvent): void {
    const p = this.at(e);
    if (!p || !this.view || !this.data) return;
    e.preventDefault();
    this.onView(zoomAt(this.view, this.data.n, e.deltaY > 0 ? 1.25 : 0.8, p.k, p.q));
  }

  private down(e: PointerEvent): void {
    if (!this.view) return;
    this.drag = { x: e.clientX, y: e.clientY, view: this.view };
  }

  private move(e: PointerEvent): void {
    const { data, view } = this;
    if (!data || !view) return;
    if (this.drag && e.buttons === 1) {
      const rect = this.plotBox.getBoundingClientRect();
      const dx = (this.drag.x - e.clientX) / rect.width;
      const dy = (this.drag.y - e.clientY) / rect.width;
      if (Math.abs(dx) + Math.abs(dy) > 0.01) {
        this.onView(pan(this.drag.view, data.n, dx, dy));
      }
      return;
    }
    const p = this.at(e);
    if (!p) return;
    const k = Math.floor(p.k);
    const q = Math.floor(p.q);
    if (k > q) {
      replaceChildren(this.readout, `query ${q}, key ${k}: after the query (causal)`);
      return;
    }
    const prob = data.probs[q * data.n + k] ?? 0;
    const kept = data.mask ? (data.mask[q * data.n + k] ? 'kept' : 'dropped') : 'dense';
    replaceChildren(
      this.readout,
      `query ${q} “${tokenLabel(data.pieces[q] ?? '')}” → key ${k} “${tokenLabel(data.pieces[k] ?? '')}”: p = ${prob.toPrecision(3)}, ${kept}`,
    );
  }

  private key(e: KeyboardEvent): void {
    const { data, view } = this;
    if (!data || !view) return;
    const cx = (view.x0 + view.x1) / 2;
    const cy = (view.y0 + view.y1) / 2;
    const moves: Record<string, () => MapView | null> = {
      '+': () => zoomAt(view, data.n, 0.5, cx, cy),
      '=': () => zoomAt(view, data.n, 0.5, cx, cy),
      '-': () => zoomAt(view, data.n, 2, cx, cy),
      '0': () => null,
      ArrowLeft: () => pan(view, data.n, -0.25, 0),
      ArrowRight: () => pan(view, data.n, 0.25, 0),
      ArrowUp: () => pan(view, data.n, 0, -0.25),
      ArrowDown: () => pan(view, data.n, 0, 0.25),
    };
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    const next = move();
    this.onView(next && isFull(next, data.n) ? null : next);
  }
}
