import type { Recipe } from '@sparseland/core';
import type {
  AttentionMap,
  BackendName,
  EngineEvent,
  EngineReply,
  EngineRequest,
  GenerateResult,
  InitResult,
  KvChoice,
  LayerSummary,
  LoadRequest,
  MethodOverlay,
  MethodResult,
  ModelInfo,
  TraceItem,
} from './protocol.js';

/** The page's handle on the engine worker: one promise per request, progress events through a callback. */
export class EngineClient {
  private readonly worker: Worker;
  private next = 1;
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; onEvent?: (e: EngineEvent) => void; onPartial?: (v: MethodOverlay) => void }
  >();

  constructor() {
    this.worker = new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'sparseland-engine' });
    this.worker.onmessage = (e: MessageEvent<EngineReply>) => {
      const message = e.data;
      const p = this.pending.get(message.id);
      if (!p) return;
      if (message.kind === 'event') {
        p.onEvent?.(message.event);
        return;
      }
      if (message.kind === 'partial') {
        p.onPartial?.(message.value);
        return;
      }
      this.pending.delete(message.id);
      if (message.kind === 'result') p.resolve(message.value);
      else p.reject(Object.assign(new Error(message.message), { code: message.code }));
    };
    this.worker.onerror = (e) => {
      const error = new Error(`the engine worker failed: ${e.message}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
  }

  private call<T>(request: EngineRequest, onEvent?: (e: EngineEvent) => void, onPartial?: (v: MethodOverlay) => void): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onEvent, onPartial });
      this.worker.postMessage({ id, request });
    });
  }

  init(): Promise<InitResult> {
    return this.call({ type: 'init' });
  }

  load(request: LoadRequest, onEvent: (e: EngineEvent) => void): Promise<ModelInfo> {
    // Dropped files are copied, not transferred: the page keeps them to reload with another text.
    return this.call({ type: 'load', request }, onEvent);
  }

  map(layer: number, head: number): Promise<AttentionMap> {
    return this.call({ type: 'map', layer, head });
  }

  /**
   * Runs a method: `onOverlay` gets the head's mask as soon as the method has run, the promise the numbers. A newer
   * evaluation of the same slot supersedes this one (it rejects with code E_SUPERSEDED).
   */
  evaluate(
    slot: string,
    layer: number,
    head: number,
    recipe: Recipe,
    backend: BackendName,
    onOverlay: (o: MethodOverlay) => void,
  ): Promise<MethodResult> {
    return this.call({ type: 'evaluate', slot, layer, head, recipe, backend }, undefined, onOverlay);
  }

  evaluateLayers(recipe: Recipe, backend: BackendName, onEvent: (e: EngineEvent) => void): Promise<LayerSummary[]> {
    return this.call({ type: 'evaluate-layers', recipe, backend }, onEvent);
  }

  /** Resolves when every layer of the current passage is captured; one event per layer. */
  captured(onEvent: (e: EngineEvent) => void): Promise<number> {
    return this.call({ type: 'captured' }, onEvent);
  }

  /** Greedy continuation of the loaded passage under `kv` (undefined: full cache); one event per token. */
  generate(kv: KvChoice | undefined, maxTokens: number, onEvent: (e: EngineEvent) => void): Promise<GenerateResult> {
    return this.call({ type: 'generate', kv, maxTokens }, onEvent);
  }

  traces(): Promise<TraceItem[]> {
    return this.call({ type: 'traces' });
  }
}
