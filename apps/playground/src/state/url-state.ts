import type { Recipe } from '@sparseland/core';
import { MAX_POSITIONS } from '../engine/passage.js';
import { BACKEND_NAMES, type BackendName } from '../engine/protocol.js';
import {
  type AppState,
  DEFAULT_STATE,
  EMBEDDED_MODELS,
  type EmbeddedModel,
  type MapView,
  TEXT_PRESETS,
  type TextPreset,
} from './app-state.js';

/** The state as a URL fragment (`#model=…&a=…`): a deep link. Only values that differ from the defaults are written. */
export function stateToHash(state: AppState): string {
  const p = new URLSearchParams();
  const d = DEFAULT_STATE;
  if (state.model !== d.model) p.set('model', state.model);
  if ('custom' in state.text) p.set('custom', state.text.custom);
  else if (state.text.preset !== (d.text as { preset: TextPreset }).preset) p.set('text', state.text.preset);
  if (state.offset !== d.offset) p.set('offset', String(state.offset));
  if (state.positions !== d.positions) p.set('n', String(state.positions));
  if (state.layer !== d.layer) p.set('layer', String(state.layer));
  if (state.head !== d.head) p.set('head', String(state.head));
  if (JSON.stringify(state.a) !== JSON.stringify(d.a)) p.set('a', JSON.stringify(state.a));
  if (JSON.stringify(state.b) !== JSON.stringify(d.b)) p.set('b', state.b === null ? 'none' : JSON.stringify(state.b));
  if (state.backend !== d.backend) p.set('backend', state.backend);
  if (state.view) p.set('view', [state.view.x0, state.view.x1, state.view.y0, state.view.y1].join(','));
  const s = p.toString();
  return s ? `#${s}` : '';
}

/**
 * The state a fragment describes; anything missing or malformed keeps its default (a hand-edited link never breaks
 * the page), and `problems` says what was ignored.
 */
export function stateFromHash(hash: string): { state: AppState; problems: string[] } {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const problems: string[] = [];
  const d = DEFAULT_STATE;
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const raw = p.get(key);
    if (raw === null) return fallback;
    const v = Number(raw);
    if (Number.isInteger(v) && v >= min && v <= max) return v;
    problems.push(`${key}=${raw} is not an integer in [${min}, ${max}]`);
    return fallback;
  };
  const recipe = (key: string, fallback: Recipe): Recipe => {
    const raw = p.get(key);
    if (raw === null) return fallback;
    try {
      const value = JSON.parse(raw) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Recipe;
    } catch {}
    problems.push(`${key} is not a JSON recipe`);
    return fallback;
  };
  const modelRaw = p.get('model');
  let model: AppState['model'] = d.model;
  if (modelRaw !== null) {
    if ((EMBEDDED_MODELS as readonly string[]).includes(modelRaw)) model = modelRaw as EmbeddedModel;
    else
      problems.push(`model=${modelRaw} is not an embedded model (${EMBEDDED_MODELS.join(', ')}); a dropped file cannot travel in a link`);
  }
  let text: AppState['text'] = d.text;
  const custom = p.get('custom');
  const preset = p.get('text');
  if (custom !== null) text = { custom };
  else if (preset !== null) {
    if ((TEXT_PRESETS as readonly string[]).includes(preset)) text = { preset: preset as TextPreset };
    else problems.push(`text=${preset} is not a preset (${TEXT_PRESETS.join(', ')})`);
  }
  const backendRaw = p.get('backend');
  let backend: BackendName = d.backend;
  if (backendRaw !== null) {
    if ((BACKEND_NAMES as readonly string[]).includes(backendRaw)) backend = backendRaw as BackendName;
    else problems.push(`backend=${backendRaw} is not one of ${BACKEND_NAMES.join(', ')}`);
  }
  let view: MapView | null = null;
  const viewRaw = p.get('view');
  if (viewRaw !== null) {
    const [x0, x1, y0, y1] = viewRaw.split(',').map(Number);
    if (
      [x0, x1, y0, y1].every((v) => Number.isInteger(v) && (v as number) >= 0) &&
      (x1 as number) > (x0 as number) &&
      (y1 as number) > (y0 as number)
    ) {
      view = { x0: x0 as number, x1: x1 as number, y0: y0 as number, y1: y1 as number };
    } else problems.push(`view=${viewRaw} is not x0,x1,y0,y1 with x0 < x1 and y0 < y1`);
  }
  const bRaw = p.get('b');
  const state: AppState = {
    model,
    text,
    offset: int('offset', d.offset, 0, 10_000_000),
    positions: int('n', d.positions, 2, MAX_POSITIONS),
    layer: int('layer', d.layer, 0, 1023),
    head: int('head', d.head, 0, 1023),
    a: recipe('a', d.a),
    b: bRaw === 'none' ? null : recipe('b', d.b as Recipe),
    backend,
    view,
  };
  return { state, problems };
}
