import type { Registry } from '@sparseland/core';
import type { EngineClient } from './engine/engine-client.js';
import type { ModelInfo } from './engine/protocol.js';
import type { AppState } from './state/app-state.js';
import type { Store } from './state/store.js';

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
 * Panels that depend on packages still being built. The generation panel (token-by-token decoding with a KV policy
 * picked from the registry's `kv-policy` plugins and a live gauge of cache bytes per layer) joins this list when
 * @sparseland/kv-cache exists; until then there is no such panel at all, rather than a placeholder.
 */
export const OPTIONAL_PANELS: readonly ((context: PanelContext) => OptionalPanel)[] = [];
