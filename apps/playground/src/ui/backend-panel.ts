import type { BackendName, BackendStatus } from '../engine/protocol.js';
import { h, replaceChildren } from './dom.js';

const LABELS: Record<BackendName, string> = {
  cpu: 'CPU — WebAssembly SIMD in Web Workers',
  webgl2: 'GPU — gpu.js webgl2',
  webgpu: 'GPU — gpu.js webgpu',
};

/** The backend switch: each backend with what runs, or the real reason it cannot run here. */
export class BackendPanel {
  readonly element: HTMLElement;
  private readonly list: HTMLElement;
  private readonly isolation: HTMLElement;

  constructor(private readonly onPick: (name: BackendName) => void) {
    this.list = h('div', { class: 'backend-list', role: 'radiogroup', attrs: { 'aria-label': 'backend' } });
    this.isolation = h('p', { class: 'muted' });
    this.element = h('fieldset', { class: 'panel backends' }, h('legend', {}, 'Backend'), this.list, this.isolation);
    replaceChildren(this.list, h('p', { class: 'muted' }, 'probing backends…'));
  }

  update(statuses: readonly BackendStatus[], chosen: BackendName, isolated: boolean, cores: number): void {
    replaceChildren(
      this.list,
      ...statuses.map((s) => {
        const id = `backend-${s.name}`;
        const input = h('input', {
          id,
          attrs: { type: 'radio', name: 'backend', value: s.name, disabled: !s.ok, 'aria-describedby': `${id}-note` },
          on: { change: () => this.onPick(s.name) },
        });
        input.checked = s.name === chosen;
        const note = s.ok ? `${s.detail ?? ''}${s.reason ? ` — ${s.reason}` : ''}` : `unavailable: ${s.reason ?? 'unknown reason'}`;
        return h(
          'div',
          { class: `backend ${s.ok ? 'ok' : 'unavailable'}`, dataset: { backend: s.name, ok: String(s.ok) } },
          input,
          h('label', { attrs: { for: id } }, LABELS[s.name]),
          h('small', { id: `${id}-note`, class: s.ok && !s.reason ? '' : 'warn' }, note),
        );
      }),
    );
    this.isolation.textContent = isolated
      ? `Cross-origin isolated: the CPU backend shares memory with up to ${cores} worker threads.`
      : 'Not cross-origin isolated (the server sends no COOP/COEP headers): the CPU backend runs on one thread.';
  }
}
