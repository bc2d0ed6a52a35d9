import type { RecipeDocument } from '@sparseland/core';
import type { TraceItem } from '../engine/protocol.js';
import { CancelledError, type JobRunner } from '../jobs/job-runner.js';
import { h } from './dom.js';
import { fixed } from './format.js';
import { Progress } from './progress.js';

/**
 * The offline per-head recipe search (MInference's kernel-aware search with MoA's budget allocation) on every layer
 * of the passage, in a worker with a progress bar and cancel; the recipe it writes goes to the editor.
 */
export class SearchPanel {
  readonly element: HTMLElement;
  private readonly budget: HTMLInputElement;
  private readonly objective: HTMLSelectElement;
  private readonly error: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly progress = new Progress('search progress');
  private readonly runButton: HTMLButtonElement;
  private readonly cancelButton: HTMLButtonElement;

  constructor(
    private readonly jobs: JobRunner,
    private readonly traces: () => Promise<TraceItem[]>,
    private readonly toEditor: (recipe: RecipeDocument) => void,
  ) {
    this.budget = h('input', { id: 'search-budget', attrs: { type: 'number', min: 0.01, max: 1, step: 0.01, value: 0.25 } });
    this.objective = h(
      'select',
      { id: 'search-objective' },
      h('option', { attrs: { value: 'recall' } }, 'attention recall'),
      h('option', { attrs: { value: 'output-error' } }, 'output error'),
    );
    this.error = h('p', { class: 'error', role: 'alert' });
    this.summary = h('p', { class: 'search-summary' });
    this.runButton = h(
      'button',
      { id: 'search-run', attrs: { type: 'button' }, on: { click: () => this.run() } },
      'Search a per-head recipe',
    );
    this.cancelButton = h(
      'button',
      { id: 'search-cancel', attrs: { type: 'button', disabled: true }, on: { click: () => this.jobs.cancel() } },
      'Cancel',
    );
    this.element = h(
      'section',
      { class: 'panel search', attrs: { 'aria-labelledby': 'search-title' } },
      h('h2', { id: 'search-title' }, 'Per-head recipe search'),
      h(
        'p',
        { class: 'muted' },
        'Tries vertical-slash, FlexPrefill, block top-k and dense on every head of every layer and picks one per head, best recall within the mean density budget.',
      ),
      h(
        'div',
        { class: 'row' },
        h('label', { attrs: { for: 'search-budget' } }, 'mean density budget', this.budget),
        h('label', { attrs: { for: 'search-objective' } }, 'maximise', this.objective),
      ),
      h('div', { class: 'buttons' }, this.runButton, this.cancelButton),
      this.progress.element,
      this.error,
      this.summary,
    );
  }

  private async run(): Promise<void> {
    this.error.textContent = '';
    const budget = Number(this.budget.value);
    if (!(budget > 0 && budget <= 1)) {
      this.error.textContent = `the budget must be a density in (0, 1], got ${this.budget.value}`;
      return;
    }
    this.runButton.disabled = true;
    this.cancelButton.disabled = false;
    delete this.element.dataset['done'];
    const t0 = performance.now();
    try {
      this.progress.show('waiting for every layer of the model…');
      this.jobs.arm();
      const traces = await this.traces();
      this.progress.show('searching…', 0, traces.length);
      const objective = this.objective.value as 'recall' | 'output-error';
      const result = await this.jobs.run({ type: 'search', traces, budget, objective }, (done, total, message) =>
        this.progress.show(message, done, total),
      );
      if (result.kind !== 'search') throw new Error('the job answered with another kind of result');
      this.progress.done(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const s = result.summary;
      const error = Number.isFinite(s.outputError) ? `, output error ${fixed(s.outputError)}` : '';
      this.summary.textContent = `${result.candidates} candidates per head; chosen recipe: density ${fixed(s.density)}, recall ${fixed(s.recall)}${error} on this passage.`;
      this.element.dataset['done'] = 'true';
      this.toEditor(result.recipe);
    } catch (error) {
      this.progress.done(error instanceof CancelledError ? 'cancelled' : '');
      if (!(error instanceof CancelledError)) this.error.textContent = (error as Error).message;
    } finally {
      this.runButton.disabled = false;
      this.cancelButton.disabled = true;
    }
  }
}
