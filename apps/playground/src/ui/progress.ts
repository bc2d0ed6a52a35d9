import { h } from './dom.js';

/** A labelled progress bar (indeterminate until a total is known). */
export class Progress {
  readonly element: HTMLElement;
  private readonly bar: HTMLProgressElement;
  private readonly label: HTMLElement;

  constructor(name: string) {
    this.bar = h('progress', { attrs: { 'aria-label': name } });
    this.label = h('span', { class: 'progress-label', attrs: { 'aria-live': 'polite' } });
    this.element = h('div', { class: 'progress', attrs: { hidden: true } }, this.bar, this.label);
  }

  show(message: string, done?: number, total?: number): void {
    this.element.hidden = false;
    this.bar.hidden = false;
    this.label.textContent = message;
    if (total && done !== undefined) {
      this.bar.max = total;
      this.bar.value = Math.min(done, total);
    } else this.bar.removeAttribute('value');
  }

  /** Stops the bar; a message stays (e.g. "done in 12 s" or an error), none hides the whole line. */
  done(message = ''): void {
    this.bar.hidden = true;
    this.label.textContent = message;
    this.element.hidden = message === '';
  }
}
