import type { Recipe } from '@sparseland/core';
import type { BackendName } from '../engine/protocol.js';

export type EmbeddedModel = 'tinybooks-2k' | 'stories260K';
export type TextPreset = 'pride-and-prejudice' | 'tinyshakespeare';

/** The visible window of the attention map in token positions: keys [x0, x1), queries [y0, y1). */
export interface MapView {
  readonly x0: number;
  readonly x1: number;
  readonly y0: number;
  readonly y1: number;
}

/** Everything a link restores (a dropped model file cannot travel in a link; the page says so). */
export interface AppState {
  readonly model: EmbeddedModel | 'file';
  readonly text: { readonly preset: TextPreset } | { readonly custom: string };
  /** Character offset of the passage in the text. */
  readonly offset: number;
  /** Tokens in the passage. */
  readonly positions: number;
  readonly layer: number;
  readonly head: number;
  /** Method A, always shown; method B, shown beside it when set. */
  readonly a: Recipe;
  readonly b: Recipe | null;
  readonly backend: BackendName;
  /** Zoom window; null = the whole map. */
  readonly view: MapView | null;
}

export const DEFAULT_STATE: AppState = {
  model: 'tinybooks-2k',
  text: { preset: 'pride-and-prejudice' },
  offset: 0,
  positions: 2048,
  layer: 0,
  head: 0,
  // StreamingLLM's shape at 2,048 tokens: 16 sink tokens and a 256-token local window (README's example).
  a: { method: 'a-shape', params: { sink: 16, local: 256 } },
  // MInference's dynamic pattern, sized for 2,048 tokens.
  b: { method: 'vertical-slash', params: { vertical: 64, slash: 128 } },
  backend: 'cpu',
  view: null,
};

export const EMBEDDED_MODELS: readonly EmbeddedModel[] = ['tinybooks-2k', 'stories260K'];
export const TEXT_PRESETS: readonly TextPreset[] = ['pride-and-prejudice', 'tinyshakespeare'];
