// Messages between the page and the engine worker (which holds the model, its Q/K/V, the dense oracle and the
// backends). Everything here is structured-clone friendly.
import type { HeadTensor, Recipe } from '@sparseland/core';

/** Where attention runs: the CPU backend (WebAssembly SIMD in workers) or gpu.js on the GPU. */
export type BackendName = 'cpu' | 'webgl2' | 'webgpu';
export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'webgl2', 'webgpu'];

export interface BackendStatus {
  readonly name: BackendName;
  readonly ok: boolean;
  /** What runs, e.g. "wasm relaxed SIMD, 2 threads" or the WebGPU adapter. */
  readonly detail?: string;
  /** Why it cannot run (ok false), or why it runs degraded (e.g. one thread without cross-origin isolation). */
  readonly reason?: string;
}

/** An embedded model (fetched by URL, cached) or files the user dropped. */
export type ModelSource =
  | { readonly kind: 'url'; readonly name: string; readonly checkpoint: string; readonly tokenizer: string; readonly vocabSize: number }
  | { readonly kind: 'bytes'; readonly name: string; readonly checkpoint: ArrayBuffer; readonly tokenizer: ArrayBuffer };

export interface LoadRequest {
  readonly model: ModelSource;
  /**
   * The text (a preset by URL, fetched by the engine while the model downloads, or typed); the passage starts at
   * `offset` (characters) and holds `positions` tokens (fewer if the text ends).
   */
  readonly text: { readonly url: string } | { readonly content: string };
  readonly offset: number;
  readonly positions: number;
}

export interface ModelInfo {
  readonly name: string;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly seqLen: number;
  readonly tokens: readonly number[];
  /** Each token's text. */
  readonly pieces: readonly string[];
  /** The passage as the model reads it (the tokens decoded). */
  readonly text: string;
  /** True when the passage runs past the trained context (RoPE extrapolation). */
  readonly extrapolated: boolean;
  /** Where loading went (ms in the engine): fetching and parsing model and text, cutting the passage, the CPU backend. */
  readonly loadMs: { readonly fetchAndParse: number; readonly passage: number; readonly backend: number };
}

/** What one method did to one query head of one layer (the numbers `evaluateMethods` reports per head). */
export interface HeadMetrics {
  readonly head: number;
  readonly density: number;
  readonly recallMean: number;
  readonly recallMin: number;
  readonly outputError: number;
  readonly keptPairs: number;
  readonly densePairs: number;
  /** Estimation FLOPs of the layer's call divided evenly over its heads (as `evaluateMethods` does). */
  readonly flopsEstimate: number;
  readonly flopsAttend: number;
}

export interface LayerSummary {
  readonly layer: number;
  readonly density: number;
  readonly recallMean: number;
  readonly recallMin: number;
  readonly outputError: number;
  readonly flopsEstimate: number;
  readonly flopsAttend: number;
  readonly flopsDense: number;
  readonly estimateMs: number;
  readonly attendMs: number;
}

export interface MethodResult {
  readonly layer: number;
  readonly backend: string;
  readonly perHead: readonly HeadMetrics[];
  readonly summary: LayerSummary;
  /** FNV-1a of the layer's dense causal mask over every head ('dense' when no mask ran): equal masks, equal hashes. */
  readonly maskHash: string;
  /** Where the engine's time went (wall ms): attention() (estimation + attention), measuring, the mask's fingerprint. */
  readonly engineMs: { readonly attention: number; readonly measure: number; readonly hash: number };
}

/** What the overlay needs, sent as soon as the method has run (the numbers follow once measured). */
export interface MethodOverlay {
  readonly layer: number;
  readonly head: number;
  /** Kept pairs of the head as an N×N 0/1 matrix (causal); undefined for a dense call. */
  readonly headMask: Uint8Array | undefined;
  readonly attentionMs: number;
}

export type EngineRequest =
  | { readonly type: 'init' }
  | { readonly type: 'load'; readonly request: LoadRequest }
  | { readonly type: 'map'; readonly layer: number; readonly head: number }
  | {
      readonly type: 'evaluate';
      /** A newer evaluation of the same slot makes this one moot: its unfinished work is dropped. */
      readonly slot: string;
      readonly layer: number;
      readonly head: number;
      readonly recipe: Recipe;
      readonly backend: BackendName;
    }
  | { readonly type: 'evaluate-layers'; readonly recipe: Recipe; readonly backend: BackendName }
  | { readonly type: 'traces' }
  /** Greedy decoding after the loaded passage under a KV policy (undefined: the full cache), on the CPU backend. */
  | { readonly type: 'generate'; readonly kv: KvChoice | undefined; readonly maxTokens: number }
  /** Resolves once every layer is captured, with one event per layer on the way. */
  | { readonly type: 'captured' };

export interface InitResult {
  /** The CPU backend's status (the GPU modes are probed in their own worker). */
  readonly cpu: BackendStatus;
  readonly crossOriginIsolated: boolean;
  readonly cores: number;
}

/** The dense softmax of one head: row i holds query i's probabilities over keys 0..N-1. */
export interface AttentionMap {
  readonly layer: number;
  readonly head: number;
  readonly n: number;
  readonly probs: Float32Array;
}

export interface TraceItem {
  readonly layer: number;
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly v: HeadTensor;
  /** The dense attention output the forward pass used. */
  readonly output: HeadTensor;
}

/** The most tokens one generation decodes (each step runs the whole model on the page's CPU backend). */
export const MAX_GENERATE_TOKENS = 256;

/** A KV policy of the registry's `kv-policy` plugins and its parameters (validated in the engine). */
export interface KvChoice {
  readonly method: string;
  readonly params: Record<string, unknown>;
}

/** Where a generation stands after `tokens` new tokens. */
export interface GenerateProgress {
  readonly tokens: readonly number[];
  readonly text: string;
  /** KV bytes held over all layers (caches + the policy's own state) and what the full cache would hold. */
  readonly bytes: number;
  readonly fullBytes: number;
  readonly msPerToken: number;
}

/** The finished generation: the last progress plus the prompt's length. */
export interface GenerateResult extends GenerateProgress {
  readonly promptTokens: number;
}

/** Progress while a model loads, every layer is measured or text is generated. */
export interface EngineEvent {
  readonly stage: 'fetch' | 'parse' | 'layer' | 'measure' | 'generate';
  readonly message: string;
  readonly layer?: number;
  readonly done?: number;
  readonly total?: number;
  readonly generated?: GenerateProgress;
}

export type EngineReply =
  | { readonly id: number; readonly kind: 'result'; readonly value: unknown }
  | { readonly id: number; readonly kind: 'partial'; readonly value: MethodOverlay }
  | { readonly id: number; readonly kind: 'error'; readonly message: string; readonly code?: string }
  | { readonly id: number; readonly kind: 'event'; readonly event: EngineEvent };
