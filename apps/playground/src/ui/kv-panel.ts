import type { Registry } from '@sparseland/core';
import type { EngineClient } from '../engine/engine-client.js';
import { type GenerateProgress, type KvChoice, MAX_GENERATE_TOKENS } from '../engine/protocol.js';
import type { OptionalPanel } from '../panels.js';
import { h } from './dom.js';
import { Progress } from './progress.js';

const FULL = 'full cache';

/** Whether a KV policy's parameters have a `budget` (a share of the prompt in (0, 1) or a token count). */
function hasBudget(registry: Registry, name: string): boolean {
  const params = registry.describe().find((d) => d.kind === 'kv-policy' && d.name === name)?.params as
    | { properties?: Record<string, unknown> }
    | undefined;
  return params?.properties?.['budget'] !== undefined;
}

/**
 * Token-by-token decoding after the loaded passage with a KV policy picked from the registry's `kv-policy` plugins
 * and a budget: the continuation as it streams, and the cache bytes held against the full cache's.
 */
export class KvPanel implements OptionalPanel {
  readonly element: HTMLElement;
  private readonly policy: HTMLSelectElement;
  private readonly budget: HTMLInputElement;
  private readonly tokens: HTMLInputElement;
  private readonly runButton: HTMLButtonElement;
  private readonly progress = new Progress('generation progress');
  private readonly error: HTMLElement;
  private readonly output: HTMLElement;
  private readonly bytes: HTMLElement;
  private loaded = false;
  private running = false;

  constructor(
    private readonly engine: EngineClient,
    private readonly registry: Registry,
  ) {
    const names = registry
      .describe()
      .filter((d) => d.kind === 'kv-policy')
      .map((d) => d.name);
    this.policy = h(
      'select',
      { id: 'kv-policy', on: { change: () => this.syncBudget() } },
      h('option', { attrs: { value: FULL } }, FULL),
      ...names.map((name) => h('option', { attrs: { value: name, selected: name === 'streaming-llm' } }, name)),
    );
    this.budget = h('input', { id: 'kv-budget', attrs: { type: 'number', min: 0.01, step: 0.05, value: 0.25 } });
    this.tokens = h('input', { id: 'kv-tokens', attrs: { type: 'number', min: 1, max: MAX_GENERATE_TOKENS, value: 32 } });
    this.runButton = h(
      'button',
      { id: 'kv-run', attrs: { type: 'button', disabled: true }, on: { click: () => void this.run() } },
      'Generate',
    );
    this.error = h('p', { class: 'error', role: 'alert', id: 'kv-error' });
    this.output = h('pre', { class: 'kv-output', attrs: { 'aria-live': 'polite' } });
    this.bytes = h('p', { class: 'kv-bytes' });
    this.element = h(
      'section',
      { class: 'panel kv', attrs: { 'aria-labelledby': 'kv-title' } },
      h('h2', { id: 'kv-title' }, 'Generate with a KV-cache policy'),
      h(
        'div',
        { class: 'row' },
        h('label', { attrs: { for: 'kv-policy' } }, 'policy', this.policy),
        h('label', { attrs: { for: 'kv-budget' } }, 'budget (share of the prompt, or tokens)', this.budget),
        h('label', { attrs: { for: 'kv-tokens' } }, `new tokens (at most ${MAX_GENERATE_TOKENS})`, this.tokens),
      ),
      h('div', { class: 'buttons' }, this.runButton),
      this.progress.element,
      this.error,
      this.bytes,
      this.output,
    );
    this.syncBudget();
  }

  modelLoaded(): void {
    this.loaded = true;
    this.runButton.disabled = this.running;
  }

  /** The budget field is for policies that have a budget parameter. */
  private syncBudget(): void {
    this.budget.disabled = this.policy.value === FULL || !hasBudget(this.registry, this.policy.value);
  }

  /** What the form asks for, or an error message. */
  private choice(): { kv: KvChoice | undefined; maxTokens: number } | string {
    const maxTokens = Number(this.tokens.value);
    if (!Number.isInteger(maxTokens) || maxTokens < 1 || maxTokens > MAX_GENERATE_TOKENS) {
      return `new tokens must be a whole number in [1, ${MAX_GENERATE_TOKENS}], got "${this.tokens.value}"`;
    }
    const method = this.policy.value;
    if (method === FULL) return { kv: undefined, maxTokens };
    const params: Record<string, unknown> = {};
    if (!this.budget.disabled) params['budget'] = Number(this.budget.value);
    const checked = this.registry.get('kv-policy', method).params.safeParse(params);
    if (!checked.success) {
      return checked.error.issues
        .map(
          (issue: { readonly path: readonly PropertyKey[]; readonly message: string }) =>
            `${issue.path.map(String).join('.') || method}: ${issue.message}`,
        )
        .join('; ');
    }
    return { kv: { method, params }, maxTokens };
  }

  private show(p: GenerateProgress): void {
    const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
    this.output.textContent = p.text;
    this.output.dataset['tokens'] = p.tokens.join(',');
    this.bytes.dataset['bytes'] = String(p.bytes);
    this.bytes.dataset['fullBytes'] = String(p.fullBytes);
    this.bytes.textContent = `cache ${kib(p.bytes)} of ${kib(p.fullBytes)} full (${((100 * p.bytes) / p.fullBytes).toFixed(1)} %) · ${p.tokens.length} tokens · ${p.msPerToken.toFixed(1)} ms/token`;
  }

  private async run(): Promise<void> {
    if (!this.loaded || this.running) return;
    const choice = this.choice();
    this.error.textContent = typeof choice === 'string' ? choice : '';
    if (typeof choice === 'string') return;
    this.running = true;
    this.runButton.disabled = true;
    delete this.element.dataset['done'];
    this.output.textContent = '';
    this.bytes.textContent = '';
    this.progress.show('reading the passage into the cache…');
    try {
      const result = await this.engine.generate(choice.kv, choice.maxTokens, (e) => {
        if (e.generated) this.show(e.generated);
        this.progress.show(e.message, e.done, e.total);
      });
      this.show(result);
      this.progress.done(`${result.tokens.length} tokens after a prompt of ${result.promptTokens}`);
      this.element.dataset['done'] = this.policy.value;
    } catch (error) {
      this.progress.done('');
      this.error.textContent = (error as Error).message;
    } finally {
      this.running = false;
      this.runButton.disabled = !this.loaded;
    }
  }
}
