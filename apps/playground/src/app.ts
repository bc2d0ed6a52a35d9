import type { Recipe } from '@sparseland/core';
import { embeddedModelUrls, presetTextUrl } from './embedded-assets.js';
import { EngineClient } from './engine/engine-client.js';
import { probeGpuModes } from './engine/probe-gpu.js';
import type { AttentionMap, BackendStatus, MethodOverlay, MethodResult, ModelInfo, ModelSource } from './engine/protocol.js';
import { JobRunner } from './jobs/job-runner.js';
import { OPTIONAL_PANELS, type OptionalPanel } from './panels.js';
import { registry } from './registry.js';
import type { AppState, MapView } from './state/app-state.js';
import { Store } from './state/store.js';
import { stateFromHash, stateToHash } from './state/url-state.js';
import { BackendPanel } from './ui/backend-panel.js';
import { h, replaceChildren } from './ui/dom.js';
import { Heatmap } from './ui/heatmap.js';
import { LayerTable } from './ui/layer-table.js';
import { MapToolbar } from './ui/map-toolbar.js';
import { asMethodRecipe, MethodForm } from './ui/method-form.js';
import { MetricsTable } from './ui/metrics-table.js';
import { type DroppedModel, ModelPanel } from './ui/model-panel.js';
import { RecipeEditor } from './ui/recipe-editor.js';
import { SearchPanel } from './ui/search-panel.js';
import { SweepPanel } from './ui/sweep-panel.js';
import { clampView, fullView, isFull, zoomAt } from './ui/zoom.js';

type Slot = 'A' | 'B';

/** A short name for a recipe: the method and the parameters it sets. */
export function recipeLabel(recipe: Recipe | null): string {
  if (recipe === null) return 'none';
  const m = asMethodRecipe(recipe);
  if (!m) return 'recipe (JSON)';
  const params = Object.entries(m.params ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return params.length ? `${m.method} ${params.join(' ')}` : m.method;
}

/**
 * The page: owns the state (mirrored in the URL), asks the engine worker for maps and measurements, and renders the
 * panels. Work on the current view is requested newest-first: answers to superseded requests are dropped.
 */
export class App {
  private readonly store: Store<AppState>;
  private readonly engine = new EngineClient();
  private readonly jobs = new JobRunner();
  private info: ModelInfo | undefined;
  private map: AttentionMap | undefined;
  private readonly results: Record<
    Slot,
    | {
        key: string;
        overlay?: MethodOverlay;
        result?: MethodResult;
        error?: string;
        sentAt: number;
        overlayAt?: number;
        receivedAt?: number;
      }
    | undefined
  > = { A: undefined, B: undefined };
  private dropped: DroppedModel | undefined;
  private loadSeq = 0;
  private viewSeq = 0;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly optional: OptionalPanel[];

  private readonly modelPanel: ModelPanel;
  private readonly backendPanel: BackendPanel;
  private readonly forms: Record<Slot, MethodForm>;
  private readonly toolbar: MapToolbar;
  private readonly heatmaps: Record<Slot, Heatmap>;
  private readonly metrics = new MetricsTable();
  private readonly layerTable: LayerTable;
  private readonly editor: RecipeEditor;
  private readonly sweep: SweepPanel;
  private readonly search: SearchPanel;
  private readonly status: HTMLElement;
  private backends: readonly BackendStatus[] = [];
  private isolation = { isolated: false, cores: 1 };
  private probed = false;

  constructor(private readonly root: HTMLElement) {
    const { state, problems } = stateFromHash(location.hash);
    this.store = new Store(state);
    this.status = h('p', { class: 'status', role: 'status' }, problems.length ? `Ignored in the link: ${problems.join('; ')}` : '');
    this.modelPanel = new ModelPanel((patch, dropped) => {
      this.dropped = dropped ?? this.dropped;
      this.store.update({ ...patch, view: null });
      void this.load();
    });
    this.backendPanel = new BackendPanel((backend) => this.store.update({ backend }));
    this.forms = {
      A: new MethodForm('A', registry, (recipe) => recipe && this.setRecipe('A', recipe), false),
      B: new MethodForm('B', registry, (recipe) => this.setRecipe('B', recipe), true),
    };
    this.toolbar = new MapToolbar({
      layer: (layer) => this.store.update({ layer }),
      head: (head) => this.store.update({ head }),
      zoom: (factor) => this.zoom(factor),
    });
    const onView = (view: MapView | null) => this.store.update({ view: view && this.map && isFull(view, this.map.n) ? null : view });
    this.heatmaps = { A: new Heatmap('A', onView), B: new Heatmap('B', onView) };
    this.layerTable = new LayerTable(() => void this.measureLayers());
    this.editor = new RecipeEditor(
      registry,
      (slot, recipe) => this.setRecipe(slot, recipe, true),
      (slot) => (slot === 'A' ? this.store.get().a : this.store.get().b),
    );
    const traces = () => this.engine.traces();
    this.sweep = new SweepPanel(
      registry,
      this.jobs,
      traces,
      () => this.store.get().a,
      (recipe) => this.editor.show(recipe),
    );
    this.search = new SearchPanel(this.jobs, traces, (recipe) => this.editor.show(recipe));
    this.optional = OPTIONAL_PANELS.map((make) => make({ engine: this.engine, store: this.store, registry }));
    this.store.subscribe((next, previous) => this.changed(next, previous));
    window.addEventListener('hashchange', () => this.fromLink());
  }

  async start(): Promise<void> {
    this.layout();
    const state = this.store.get();
    this.forms.A.set(state.a);
    this.forms.B.set(state.b);
    this.editor.show(state.a);
    this.sweep.followA();
    const init = this.engine.init().then((r) => {
      this.isolation = { isolated: r.crossOriginIsolated, cores: r.cores };
      this.showBackends([r.cpu]);
    });
    await Promise.all([init, this.load()]);
  }

  /** Probes the GPU modes once the first picture is up (each probe compiles kernels, which competes with it). */
  private async probeGpu(): Promise<void> {
    if (this.probed) return;
    this.probed = true;
    const gpu = await probeGpuModes().catch((error: unknown) =>
      (['webgl2', 'webgpu'] as const).map((name) => ({ name, ok: false, reason: (error as Error).message })),
    );
    this.showBackends([...this.backends.filter((b) => b.name === 'cpu'), ...gpu]);
    const chosen = this.backends.find((b) => b.name === this.store.get().backend);
    if (!chosen?.ok) {
      this.say(`Backend ${this.store.get().backend} cannot run here (${chosen?.reason ?? 'unknown'}); using the CPU backend.`);
      this.store.update({ backend: 'cpu' });
    }
  }

  private showBackends(statuses: readonly BackendStatus[]): void {
    this.backends = statuses;
    const pending =
      statuses.length < 3
        ? ([
            { name: 'webgl2', ok: false, reason: 'probing…' },
            { name: 'webgpu', ok: false, reason: 'probing…' },
          ] as const)
        : [];
    this.backendPanel.update([...statuses, ...pending], this.store.get().backend, this.isolation.isolated, this.isolation.cores);
  }

  private layout(): void {
    const maps = h('div', { class: 'maps' }, this.heatmaps.A.element, this.heatmaps.B.element);
    replaceChildren(
      this.root,
      h(
        'header',
        { class: 'top' },
        h('h1', {}, 'sparseland playground'),
        h(
          'p',
          { class: 'tagline' },
          'A real model’s attention, any published sparse method over it: what it keeps, what it costs, what it changes.',
        ),
        this.status,
      ),
      h(
        'main',
        { class: 'layout' },
        h(
          'aside',
          { class: 'controls', attrs: { 'aria-label': 'model, methods and backend' } },
          this.modelPanel.element,
          this.forms.A.element,
          this.forms.B.element,
          this.backendPanel.element,
        ),
        h(
          'div',
          { class: 'content' },
          h('section', { class: 'panel view', attrs: { 'aria-label': 'attention maps' } }, this.toolbar.element, maps),
          this.metrics.element,
          this.layerTable.element,
          h('div', { class: 'jobs' }, this.sweep.element, this.search.element),
          this.editor.element,
          ...this.optional.map((p) => p.element),
        ),
      ),
      h('footer', {}, 'Everything runs in this tab; nothing leaves this machine.'),
    );
  }

  private say(message: string): void {
    this.status.textContent = message;
  }

  private setRecipe(slot: Slot, recipe: Recipe | null, fromEditor = false): void {
    if (slot === 'A' && recipe === null) return;
    if (fromEditor) this.forms[slot].set(recipe);
    this.store.update(slot === 'A' ? { a: recipe as Recipe } : { b: recipe });
  }

  private zoom(factor: number | null): void {
    const n = this.map?.n;
    if (!n) return;
    if (factor === null) {
      this.store.update({ view: null });
      return;
    }
    const v = this.store.get().view ?? fullView(n);
    const next = zoomAt(v, n, factor, (v.x0 + v.x1) / 2, (v.y0 + v.y1) / 2);
    this.store.update({ view: isFull(next, n) ? null : next });
  }

  private fromLink(): void {
    const { state, problems } = stateFromHash(location.hash);
    if (stateToHash(state) === stateToHash(this.store.get())) return;
    if (problems.length) this.say(`Ignored in the link: ${problems.join('; ')}`);
    const before = this.store.get();
    this.store.update(state);
    this.forms.A.set(state.a);
    this.forms.B.set(state.b);
    if (
      before.model !== state.model ||
      JSON.stringify(before.text) !== JSON.stringify(state.text) ||
      before.offset !== state.offset ||
      before.positions !== state.positions
    ) {
      void this.load();
    }
  }

  private changed(next: AppState, previous: AppState): void {
    const hash = stateToHash(next);
    if (hash !== location.hash && !(hash === '' && location.hash === ''))
      history.replaceState(null, '', hash || location.pathname + location.search);
    if (next.backend !== previous.backend && this.backends.length) this.showBackends(this.backends);
    if (!this.info) return;
    if (next.layer !== previous.layer || next.head !== previous.head) this.toolbar.update(this.info, next.layer, next.head);
    if (next.view !== previous.view && next.layer === previous.layer && next.head === previous.head) this.drawMaps();
    if (next.a !== previous.a) this.sweep.followA();
    const work =
      next.layer !== previous.layer ||
      next.head !== previous.head ||
      next.a !== previous.a ||
      next.b !== previous.b ||
      next.backend !== previous.backend;
    if (work) this.scheduleRefresh();
  }

  /** Loads the model and text of the state, then draws the first layer as soon as it is captured. */
  private async load(): Promise<void> {
    const seq = ++this.loadSeq;
    const state = this.store.get();
    this.info = undefined;
    this.map = undefined;
    this.results.A = this.results.B = undefined;
    this.layerTable.clear();
    this.drawMaps();
    this.drawMetrics();
    const progress = this.modelPanel.progress;
    try {
      progress.show('loading the model and the text…');
      const text = 'custom' in state.text ? { content: state.text.custom } : { url: presetTextUrl(state.text.preset) };
      let model: ModelSource;
      if (state.model === 'file') {
        if (!this.dropped) throw new Error('choose a checkpoint and its tokenizer first (a link cannot carry dropped files)');
        model = { kind: 'bytes', name: this.dropped.name, checkpoint: this.dropped.checkpoint, tokenizer: this.dropped.tokenizer };
      } else {
        const urls = embeddedModelUrls(state.model);
        model = { kind: 'url', name: state.model, ...urls, vocabSize: 0 };
      }
      const info = await this.engine.load({ model, text, offset: state.offset, positions: state.positions }, (e) => {
        if (seq === this.loadSeq) progress.show(e.message, e.done, e.total);
      });
      if (seq !== this.loadSeq) return;
      performance.mark('sparseland:passage-ready');
      this.root.dataset['loadMs'] = JSON.stringify(info.loadMs);
      this.info = info;
      for (const p of this.optional) p.modelLoaded?.(info);
      const layer = Math.min(state.layer, info.layers - 1);
      const head = Math.min(state.head, info.heads - 1);
      const view = state.view ? clampView(state.view, info.tokens.length) : null;
      this.modelPanel.set(this.store.get(), 'custom' in state.text ? state.text.custom : info.text);
      this.modelPanel.setInfo(
        `${info.name}: ${info.layers} layers × ${info.heads} query / ${info.kvHeads} kv heads, head dim ${info.headDim}, trained context ${info.seqLen}; passage of ${info.tokens.length} tokens${info.extrapolated ? ' (past the trained context: RoPE extrapolation)' : ''}.`,
      );
      this.toolbar.update(info, layer, head);
      this.store.update({ layer, head, view });
      this.refresh();
      progress.show(`running ${info.name} over ${info.tokens.length} tokens…`, 0, info.layers);
      const t0 = performance.now();
      await this.engine.captured((e) => {
        if (seq === this.loadSeq) progress.show(`${e.message}…`, e.done, e.total);
      });
      void this.probeGpu();
      if (seq === this.loadSeq)
        progress.done(`all ${info.layers} layers captured (${((performance.now() - t0) / 1000).toFixed(1)} s after the first)`);
    } catch (error) {
      if (seq !== this.loadSeq || (error as Error).message.includes('superseded')) return;
      progress.done('');
      if (state.model === 'file') this.modelPanel.showFileError((error as Error).message);
      this.say(`Could not run the model: ${(error as Error).message}`);
    }
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.refresh(), 60);
  }

  private resultKey(slot: Slot, state: AppState): string {
    return JSON.stringify([this.loadSeq, state.layer, state.head, state.backend, slot === 'A' ? state.a : state.b]);
  }

  /** Requests what the current view lacks: the map of the layer and head, and each method's measurement. */
  private refresh(): void {
    const info = this.info;
    if (!info) return;
    const seq = ++this.viewSeq;
    const state = this.store.get();
    const { layer, head } = state;
    if (!this.map || this.map.layer !== layer || this.map.head !== head) {
      this.map = undefined;
      this.engine
        .map(layer, head)
        .then((map) => {
          if (seq !== this.viewSeq && (this.store.get().layer !== layer || this.store.get().head !== head)) return;
          this.map = map;
          performance.mark('sparseland:map');
          this.drawMaps();
        })
        .catch((error: unknown) => this.say(`Could not compute the attention map: ${(error as Error).message}`));
    }
    for (const slot of ['A', 'B'] as const) {
      const recipe = slot === 'A' ? state.a : state.b;
      const key = this.resultKey(slot, state);
      if (this.results[slot]?.key === key) continue;
      if (recipe === null) {
        this.results[slot] = undefined;
        continue;
      }
      this.results[slot] = { key, sentAt: performance.now() };
      this.drawMetrics();
      const onOverlay = (overlay: MethodOverlay) => {
        const entry = this.results[slot];
        if (entry?.key !== key) return;
        this.results[slot] = { ...entry, overlay, overlayAt: performance.now() };
        performance.mark(`sparseland:overlay-${slot}`);
        this.drawMaps();
      };
      this.engine
        .evaluate(slot, layer, head, recipe, state.backend, onOverlay)
        .then((result) => {
          const entry = this.results[slot];
          if (entry?.key !== key) return;
          this.results[slot] = { ...entry, result, receivedAt: performance.now() };
          this.drawMaps();
          this.drawMetrics();
        })
        .catch((error: unknown) => {
          const entry = this.results[slot];
          if (entry?.key !== key) return;
          this.results[slot] = { ...entry, error: (error as Error).message };
          this.drawMaps();
          this.drawMetrics();
        });
    }
    this.drawMaps();
    this.drawMetrics();
  }

  private drawMaps(): void {
    const state = this.store.get();
    const map = this.map && this.map.layer === state.layer && this.map.head === state.head ? this.map : undefined;
    for (const slot of ['A', 'B'] as const) {
      const recipe = slot === 'A' ? state.a : state.b;
      const heatmap = this.heatmaps[slot];
      heatmap.element.hidden = recipe === null;
      if (recipe === null) continue;
      const entry = this.results[slot];
      const current = entry?.key === this.resultKey(slot, state) ? entry : undefined;
      const result = current?.result;
      const overlay = current?.overlay;
      const pending = !current || (!current.overlay && !current.error);

      heatmap.setCaption(
        h('span', { class: `slot-badge slot-${slot.toLowerCase()}` }, slot),
        ` ${recipeLabel(recipe)}`,
        result
          ? ` · layer ${state.layer}, head ${state.head}: density ${result.perHead[state.head]?.density.toFixed(3)}, recall ${result.perHead[state.head]?.recallMean.toFixed(3)}`
          : '',
        current?.error ? ` · ${current.error}` : pending ? ' · computing…' : !result ? ' · measuring…' : '',
      );
      const el = heatmap.element;
      if (!map) {
        heatmap.update(undefined, null);
        delete el.dataset['key'];
        continue;
      }
      if (overlay && current) {
        if (el.dataset['key'] !== current.key || !heatmap.shows(map.probs)) {
          const t0 = performance.now();
          heatmap.update({ probs: map.probs, n: map.n, mask: overlay.headMask, pieces: this.info?.pieces ?? [] }, state.view);
          // What is on screen and when it got there, for the timing script and the tests.
          el.dataset['key'] = current.key;
          el.dataset['recipe'] = JSON.stringify(recipe);
          el.dataset['renderedAt'] = String(performance.now());
          el.dataset['renderMs'] = String(performance.now() - t0);
        } else heatmap.setView(state.view);
        el.dataset['timings'] = JSON.stringify({
          sentAt: current.sentAt,
          overlayAt: current.overlayAt,
          receivedAt: current.receivedAt,
          attentionMs: overlay.attentionMs,
          engine: result?.engineMs,
        });
        if (result) el.dataset['numbers'] = current.key;
        else delete el.dataset['numbers'];
        continue;
      }
      // Pending or failed: keep the overlay on screen until the new one arrives (the caption says so); a new map
      // is drawn bare at once.
      if (heatmap.shows(map.probs)) heatmap.setView(state.view);
      else heatmap.update({ probs: map.probs, n: map.n, mask: undefined, pieces: this.info?.pieces ?? [] }, state.view);
      delete el.dataset['key'];
      delete el.dataset['numbers'];
    }
  }

  private drawMetrics(): void {
    const state = this.store.get();
    this.metrics.update(
      (['A', 'B'] as const).map((slot) => {
        const entry = this.results[slot];
        const current = entry?.key === this.resultKey(slot, state) ? entry : undefined;
        return {
          slot,
          label: recipeLabel(slot === 'A' ? state.a : state.b),
          result: current?.result,
          ...(current?.error ? { error: current.error } : {}),
        };
      }),
      state.head,
    );
  }

  private async measureLayers(): Promise<void> {
    const state = this.store.get();
    const slots = (['A', 'B'] as const).filter((s) => (s === 'A' ? state.a : state.b) !== null);
    const out: { slot: Slot; label: string; layers: Awaited<ReturnType<EngineClient['evaluateLayers']>> }[] = [];
    try {
      for (const slot of slots) {
        const recipe = (slot === 'A' ? state.a : state.b) as Recipe;
        const layers = await this.engine.evaluateLayers(recipe, state.backend, (e) =>
          this.layerTable.progress.show(`${slot}: ${e.message}`, e.done, e.total),
        );
        out.push({ slot, label: recipeLabel(recipe), layers });
        this.layerTable.update(out);
      }
      this.layerTable.progress.done('');
    } catch (error) {
      this.layerTable.progress.done(`failed: ${(error as Error).message}`);
    }
  }
}
