import { MAX_POSITIONS } from '../engine/passage.js';
import { type AppState, EMBEDDED_MODELS, TEXT_PRESETS } from '../state/app-state.js';
import { h } from './dom.js';
import { Progress } from './progress.js';

const PRESET_NAMES: Record<string, string> = {
  'pride-and-prejudice': 'Pride and Prejudice (Austen)',
  tinyshakespeare: 'tiny shakespeare',
};

export interface DroppedModel {
  readonly name: string;
  readonly checkpoint: ArrayBuffer;
  readonly tokenizer: ArrayBuffer;
}

/**
 * Model and text: an embedded model or a llama2.c checkpoint and tokenizer the user drops in, a preset text or their
 * own, where the passage starts and how many tokens it holds. "Run" traces the passage.
 */
export class ModelPanel {
  readonly element: HTMLElement;
  readonly progress = new Progress('model progress');
  private readonly model: HTMLSelectElement;
  private readonly textSelect: HTMLSelectElement;
  private readonly textArea: HTMLTextAreaElement;
  private readonly offset: HTMLInputElement;
  private readonly positions: HTMLInputElement;
  private readonly files: HTMLElement;
  private readonly fileError: HTMLElement;
  private readonly info: HTMLElement;
  private dropped: DroppedModel | undefined;

  constructor(private readonly onRun: (patch: Partial<AppState>, dropped: DroppedModel | undefined) => void) {
    this.model = h(
      'select',
      { id: 'model', on: { change: () => this.modelChanged() } },
      ...EMBEDDED_MODELS.map((m) => h('option', { attrs: { value: m } }, m)),
      h('option', { attrs: { value: 'file' } }, 'your llama2.c checkpoint…'),
    );
    const checkpointInput = h('input', { id: 'checkpoint-file', attrs: { type: 'file', accept: '.bin' } });
    const tokenizerInput = h('input', { id: 'tokenizer-file', attrs: { type: 'file', accept: '.bin' } });
    const readFiles = async () => {
      const c = checkpointInput.files?.[0];
      const t = tokenizerInput.files?.[0];
      if (c && t) await this.takeFiles(c, t);
    };
    checkpointInput.addEventListener('change', readFiles);
    tokenizerInput.addEventListener('change', readFiles);
    this.fileError = h('p', { class: 'error', role: 'alert' });
    this.files = h(
      'div',
      { class: 'files', attrs: { hidden: true } },
      h('label', { attrs: { for: 'checkpoint-file' } }, 'checkpoint (.bin)'),
      checkpointInput,
      h('label', { attrs: { for: 'tokenizer-file' } }, 'tokenizer (.bin)'),
      tokenizerInput,
      h('small', {}, 'Or drop both files on this panel. They stay in this tab: nothing is uploaded, and a link cannot carry them.'),
      this.fileError,
    );
    this.textSelect = h(
      'select',
      { id: 'text-preset', on: { change: () => this.presetChanged() } },
      ...TEXT_PRESETS.map((t) => h('option', { attrs: { value: t } }, PRESET_NAMES[t] ?? t)),
      h('option', { attrs: { value: 'custom' } }, 'your own text'),
    );
    this.textArea = h('textarea', { id: 'text', attrs: { rows: 5, spellcheck: 'false' } });
    this.textArea.addEventListener('input', () => (this.textSelect.value = 'custom'));
    this.offset = h('input', { id: 'offset', attrs: { type: 'number', min: 0, step: 1, inputmode: 'numeric' } });
    this.positions = h('input', { id: 'positions', attrs: { type: 'number', min: 2, max: MAX_POSITIONS, step: 1, inputmode: 'numeric' } });
    this.info = h('p', { class: 'muted model-info' });
    const run = h('button', { id: 'run', attrs: { type: 'button' }, on: { click: () => this.run() } }, 'Run the model');
    this.element = h(
      'fieldset',
      { class: 'panel model-panel' },
      h('legend', {}, 'Model and text'),
      h('label', { attrs: { for: 'model' } }, 'model'),
      this.model,
      this.files,
      h('label', { attrs: { for: 'text-preset' } }, 'text'),
      this.textSelect,
      this.textArea,
      h(
        'div',
        { class: 'row' },
        h('label', { attrs: { for: 'offset' } }, 'from character', this.offset),
        h('label', { attrs: { for: 'positions' } }, `tokens (≤ ${MAX_POSITIONS})`, this.positions),
      ),
      run,
      this.progress.element,
      this.info,
    );
    this.element.addEventListener('dragover', (e) => e.preventDefault());
    this.element.addEventListener('drop', (e) => this.drop(e as DragEvent));
  }

  set(state: AppState, textShown: string): void {
    this.model.value = state.model;
    this.files.hidden = state.model !== 'file';
    this.textSelect.value = 'custom' in state.text ? 'custom' : state.text.preset;
    this.textArea.value = textShown;
    this.offset.value = String(state.offset);
    this.positions.value = String(state.positions);
  }

  setInfo(text: string): void {
    this.info.textContent = text;
  }

  private modelChanged(): void {
    this.files.hidden = this.model.value !== 'file';
    if (this.model.value !== 'file') this.run();
  }

  private presetChanged(): void {
    if (this.textSelect.value === 'custom') return;
    // The passage of the new text replaces the text area once it is read.
    this.offset.value = '0';
    this.run();
  }

  private async drop(e: DragEvent): Promise<void> {
    e.preventDefault();
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length !== 2) {
      this.fileError.textContent = `drop two files (checkpoint and tokenizer), got ${files.length}`;
      this.model.value = 'file';
      this.files.hidden = false;
      return;
    }
    // The checkpoint is the larger file.
    files.sort((a, b) => b.size - a.size);
    await this.takeFiles(files[0] as File, files[1] as File);
  }

  private async takeFiles(checkpoint: File, tokenizer: File): Promise<void> {
    this.fileError.textContent = '';
    this.model.value = 'file';
    this.files.hidden = false;
    this.dropped = { name: checkpoint.name, checkpoint: await checkpoint.arrayBuffer(), tokenizer: await tokenizer.arrayBuffer() };
    this.run();
  }

  showFileError(message: string): void {
    this.fileError.textContent = message;
  }

  private run(): void {
    const model = this.model.value as AppState['model'];
    if (model === 'file' && !this.dropped) {
      this.fileError.textContent = 'choose a checkpoint and its tokenizer first';
      return;
    }
    const preset = this.textSelect.value;
    this.onRun(
      {
        model,
        text: preset === 'custom' ? { custom: this.textArea.value } : { preset: preset as 'pride-and-prejudice' },
        offset: Math.max(0, Math.floor(Number(this.offset.value) || 0)),
        positions: Math.min(MAX_POSITIONS, Math.max(2, Math.floor(Number(this.positions.value) || 2))),
      },
      model === 'file' ? this.dropped : undefined,
    );
  }
}
