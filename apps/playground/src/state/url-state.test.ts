import { describe, expect, it } from 'vitest';
import { DEFAULT_STATE } from './app-state.js';
import { stateFromHash, stateToHash } from './url-state.js';

describe('deep links', () => {
  it('the default state is the empty fragment, and back', () => {
    expect(stateToHash(DEFAULT_STATE)).toBe('');
    expect(stateFromHash('')).toEqual({ state: DEFAULT_STATE, problems: [] });
  });

  it('round-trips every field', () => {
    const state = {
      ...DEFAULT_STATE,
      model: 'stories260K' as const,
      text: { custom: 'Once upon a time & more #hash=?' },
      offset: 17,
      positions: 300,
      layer: 3,
      head: 5,
      a: { method: 'sliding-window', params: { window: 64 } },
      b: null,
      backend: 'webgpu' as const,
      view: { x0: 10, x1: 74, y0: 100, y1: 164 },
    };
    const back = stateFromHash(stateToHash(state));
    expect(back.problems).toEqual([]);
    expect(back.state).toEqual(state);
  });

  it('ignores what it cannot read, keeps the defaults and says why', () => {
    const { state, problems } = stateFromHash('#model=file&n=99999&a=%7Bnot-json&backend=cuda&view=5,2,0,1&text=bible');
    expect(state).toEqual(DEFAULT_STATE);
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/dropped file cannot travel in a link/);
    expect(problems.join('\n')).toMatch(/n=99999 is not an integer in \[2, 2048\]/);
    expect(problems.join('\n')).toMatch(/backend=cuda is not one of cpu, webgl2, webgpu/);
  });
});
