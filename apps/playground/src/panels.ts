import type { Registry } from '@sparseland/core';
import type { EngineClient } from './engine/engine-client.js';
import type { ModelInfo } from './engine/protocol.js';
import type { AppState } from './state/app-state.js';
import type { Store } from './state/store.js';
import { KvPanel } from './ui/kv-panel.js';

/** What an optional panel gets from the page. */
export interface PanelContext {
  readonly engine: EngineClient;
  readonly store: Store<AppState>;
  readonly registry: Registry;
}

/** A panel that is shown only when the package it needs exists. */
export interface OptionalPanel {
  readonly element: HTMLElement;
  /** Called after each model load. */
  modelLoaded?(info: ModelInfo): void;
}

/**
 * Panels beyond the attention views: the generation panel (token-by-token decoding with a KV policy picked from the
 * registry's `kv-policy` plugins, @sparseland/kv-cache, and the cache bytes held against the full cache's).
 */
export const OPTIONAL_PANELS: readonly ((context: PanelContext) => OptionalPanel)[] = [
  ({ engine, registry }) => new KvPanel(engine, registry),
];
