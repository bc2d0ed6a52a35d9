import * as Plot from '@observablehq/plot';
import type { Recipe, Registry } from '@sparseland/core';
import { DEFAULT_SWEEP_DENSITIES } from '@sparseland/eval';
import type { TraceItem } from '../engine/protocol.js';
import { sweepParam } from '../jobs/density-sweep.js';
import { CancelledError, type JobRunner } from '../jobs/job-runner.js';
import type { SweepResult } from '../jobs/protocol.js';
import { h, replaceChildren } from './dom.js';
import { fixed } from './format.js';
import { asMethodRecipe } from './method-form.js';
import { Progress } from './progress.js';

/**
 * A density-vs-recall sweep of one method over its budget parameter, on every layer of the passage, in a worker
 * with a progress bar and cancel. Each point can be sent to the recipe editor.
 */
export class SweepPanel {
  readonly element: HTMLElement;
  private readonly method: HTMLSelectElement;
  private readonly densities: HTMLInputElement;
  private readonly error: HTMLElement;
  private readonly chart: HTMLElement;
  private readonly table: HTMLElement;
  private readonly progress = new Progress('sweep progress');
  private readonly runButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;

  constructor(
    registry: Registry,
    private readonly jobs: JobRunner,
    private readonly traces: () => Promise<TraceItem[]>,
    private readonly currentA: () => Recipe,
    private readonly toEditor: (recipe: Recipe) => void,
  ) {
    const sweepable = registry
      .describe()
      .filter((d) => (d.kind === 'pattern' || d.kind === 'estimator') && sweepParam(registry, d.name) !== undefined);
    this.method = h(
      'select',
      { id: 'sweep-method' },
      ...sweepable.map((d) => h('option', { attrs: { value: d.name } }, `${d.name} (${sweepParam(registry, d.name)})`)),
    );
    this.densities = h('input', {
      id: 'sweep-densities',
      attrs: { type: 'text', value: DEFAULT_SWEEP_DENSITIES.map((d) => Number(d.toPrecision(4))).join(', '), spellcheck: 'false' },
    });
    this.error = h('p', { class: 'error', role: 'alert' });
    this.chart = h('div', { class: 'chart' });
    this.table = h('div', { class: 'sweep-points' });
    this.runButton = h('button', { id: 'sweep-run', attrs: { type: 'button' }, on: { click: () => this.run() } }, 'Run sweep');
    this.cancelButton = h(
      'button',
      { id: 'sweep-cancel', attrs: { type: 'button', disabled: true }, on: { click: () => this.jobs.cancel() } },
      'Cancel',
    );
    this.element = h(
      'section',
      { class: 'panel sweep', attrs: { 'aria-labelledby': 'sweep-title' } },
      h('h2', { id: 'sweep-title' }, 'Density vs recall sweep'),
      h(
        'div',
        { class: 'row' },
        h('label', { attrs: { for: 'sweep-method' } }, 'method (budget parameter)', this.method),
        h('label', { attrs: { for: 'sweep-densities' } }, 'target densities', this.densities),
      ),
      h('div', { class: 'buttons' }, this.runButton, this.cancelButton),
      this.progress.element,
      this.error,
      this.chart,
      this.table,
    );
  }

  /** Preselects method A's method when it can be swept. */
  followA(): void {
    const a = asMethodRecipe(this.currentA());
    if (a && [...this.method.options].some((o) => o.value === a.method)) this.method.value = a.method;
  }

  private async run(): Promise<void> {
    this.error.textContent = '';
    const densities = this.densities.value
      .split(/[,\s]+/)
      .filter(Boolean)
      .map(Number);
    if (densities.length === 0 || densities.some((d) => !(d > 0 && d <= 1))) {
      this.error.textContent = 'target densities must be numbers in (0, 1], separated by commas';
      return;
    }
    const method = this.method.value;
    const a = asMethodRecipe(this.currentA());
    const params = a?.method === method ? { ...(a.params ?? {}) } : {};
    this.runButton.disabled = true;
    this.cancelButton.disabled = false;
    delete this.element.dataset['done'];
    const t0 = performance.now();
    try {
      this.progress.show('waiting for every layer of the model…');
      this.jobs.arm();
      const traces = await this.traces();
      this.progress.show('matching the target densities…');
      const result = await this.jobs.run({ type: 'sweep', traces, method, params, densities }, (done, total, message) =>
        this.progress.show(`${message} (${done}${total ? ` of ${total}` : ''})`, done, total),
      );
      if (result.kind !== 'sweep') throw new Error('the job answered with another kind of result');
      this.progress.done(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      this.element.dataset['done'] = 'true';
      this.show(result);
    } catch (error) {
      this.progress.done(error instanceof CancelledError ? 'cancelled' : '');
      if (!(error instanceof CancelledError)) this.error.textContent = (error as Error).message;
    } finally {
      this.runButton.disabled = false;
      this.cancelButton.disabled = true;
    }
  }

  private show(result: SweepResult): void {
    const points = result.points.map((p) => ({ ...p }));
    const width = Math.max(280, Math.min(640, this.chart.clientWidth || 560));
    replaceChildren(
      this.chart,
      Plot.plot({
        width,
        height: 260,
        marginLeft: 48,
        marginRight: 56,
        grid: true,
        x: { label: 'density of the causal mask →', domain: [0, Math.max(0.5, ...points.map((p) => p.density))] },
        y: { label: '↑ attention recall (mean)', domain: [Math.min(0.5, ...points.map((p) => p.recallMean)), 1] },
        marks: [
          Plot.line(points, { x: 'density', y: 'recallMean', stroke: '#1c7ed6' }),
          Plot.dot(points, { x: 'density', y: 'recallMean', fill: '#1c7ed6', tip: true, title: (p: (typeof points)[number]) => p.label }),
          Plot.text(points, {
            x: 'density',
            y: 'recallMean',
            text: (p: (typeof points)[number]) => `${result.param}=${p.value}`,
            dy: -10,
            fontSize: 10,
          }),
        ],
      }),
    );
    replaceChildren(
      this.table,
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, ...[result.param, 'density', 'recall', 'recall min', 'out err', ''].map((c) => h('th', {}, c)))),
        h(
          'tbody',
          {},
          ...points.map((p, i) =>
            h(
              'tr',
              {},
              h('td', {}, String(p.value)),
              h('td', {}, fixed(p.density)),
              h('td', {}, fixed(p.recallMean)),
              h('td', {}, fixed(p.recallMin)),
              h('td', {}, fixed(p.outputError)),
              h(
                'td',
                {},
                h(
                  'button',
                  { id: `sweep-point-${i}`, attrs: { type: 'button' }, on: { click: () => this.toEditor(p.recipe) } },
                  'to editor',
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }
}
