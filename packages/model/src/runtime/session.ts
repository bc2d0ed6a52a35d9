import {
  type AttentionStats,
  attention,
  attentionFlops,
  type Backend,
  type CompiledRecipe,
  concatPositions,
  createReferenceBackend,
  type HeadTensor,
  kvHeadOf,
  type Recipe,
  type Registry,
  SparselandError,
  TokenSelection,
} from '@sparseland/core';
import { describeValue, expectInteger, type KvPolicy, type KvPolicyContext, LayerKvCache } from '@sparseland/core/kit';
import type { ModelConfig } from '../checkpoint/config.js';
import type { LlamaWeights } from '../checkpoint/weights.js';
import { addInPlace, mergeHeads, rmsNormRows, splitHeads, swiGlu } from './layers.js';
import { matmulRows } from './matmul.js';
import { resolveSessionRecipe, type SessionRecipe } from './recipe.js';
import type { RotaryTable } from './rope.js';

export interface SessionOptions {
  /** The attention method: a recipe (JSON text, object, or compiled with compileRecipe). Default: dense. */
  readonly recipe?: Recipe | string | CompiledRecipe | undefined;
  /** Resolves the plugin names of a recipe that is not compiled yet. */
  readonly registry?: Registry | undefined;
  /** Where attention runs (default: core's float64 reference backend, owned and disposed by the session). */
  readonly backend?: Backend | undefined;
  /**
   * Manages the KV cache (default: the recipe's `kv` policies, else none: the full cache). Give a policy either here
   * or in the recipe, not both.
   */
  readonly kvPolicy?: KvPolicy | undefined;
  /** Seed for randomised methods (default 0). */
  readonly seed?: number | undefined;
  /** Called after every attention call with its statistics (density, FLOPs, times). */
  readonly onAttention?: ((event: AttentionEvent) => void) | undefined;
  /** Called after every layer with its queries, new keys and values (after RoPE) and attention output. */
  readonly onLayer?: ((capture: LayerCapture) => void) | undefined;
}

/** One attention call of the forward pass. */
export interface AttentionEvent {
  readonly layer: number;
  readonly phase: 'prefill' | 'decode';
  /** Absolute position of the first query. */
  readonly position: number;
  readonly queries: number;
  /** Keys the call could read (cache slots, padding excluded). */
  readonly keys: number;
  /**
   * density and FLOPs as core's `attention()` counts them; for decode steps through a selection, kept pairs are the
   * selected slots over every token written so far.
   */
  readonly stats: AttentionStats;
}

/** What a layer computed for one prefill chunk or decode step. */
export interface LayerCapture {
  readonly layer: number;
  /** Absolute position of the chunk's first token. */
  readonly position: number;
  /** Queries after RoPE [heads, count, headDim]. */
  readonly q: HeadTensor;
  /** The chunk's keys after RoPE [kvHeads, count, headDim]. */
  readonly k: HeadTensor;
  /** The chunk's values [kvHeads, count, headDim]. */
  readonly v: HeadTensor;
  /** The attention output before the output projection [heads, count, headDim]. */
  readonly output: HeadTensor;
}

export interface PrefillOptions {
  /** Return the logits of every position, [tokens.length × vocabSize] (default: only the last position's). */
  readonly allLogits?: boolean;
}

/** A conversation with the model: its KV cache and position. Not safe to call concurrently: await each call. */
export interface InferenceSession {
  /** Tokens processed so far: the absolute position of the next token. */
  readonly position: number;
  /** One KV cache per layer. */
  readonly cache: readonly LayerKvCache[];
  /** True once a position at or past the trained context (seqLen) was processed: RoPE extrapolation. */
  readonly extrapolating: boolean;
  /** Runs the tokens through the model (one attention call per layer) and returns logits. */
  prefill(tokens: readonly number[], options?: PrefillOptions): Promise<Float32Array>;
  /** One decode step: the logits after `token`. */
  step(token: number): Promise<Float32Array>;
  /** Releases the backend if the session created it. */
  dispose(): Promise<void>;
}

/** What a session needs from its model. */
export interface ModelRuntime {
  readonly config: ModelConfig;
  readonly weights: LlamaWeights;
  readonly rope: RotaryTable;
}

type Phase = 'prefill' | 'decode';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * The forward pass of llama2.c's run.c, batched over a chunk of tokens: RMSNorm, Q/K/V projections, RoPE, attention
 * through core (recipe on prefill, KV policy on decode), output projection, SwiGLU feed-forward, final norm and
 * classifier.
 *
 * Which attention runs:
 * - prefill chunks call `attention()` with the session's compiled recipe while the cache holds every position; once a
 *   policy has evicted, later chunks attend densely to what the cache kept plus the chunk (causally);
 * - decode steps read the cache through `backend.decode` with the policy's TokenSelection when `select` returns one;
 *   otherwise, while the cache holds every position, they follow the recipe like a prefill of one token (so decode
 *   and prefill agree), and after evictions they read every kept slot.
 */
export class LlamaSession implements InferenceSession {
  readonly cache: readonly LayerKvCache[];
  private readonly runtime: ModelRuntime;
  private readonly options: SessionOptions;
  private readonly recipe: SessionRecipe;
  private readonly backend: Backend;
  private readonly ownsBackend: boolean;
  private readonly seed: number;
  private readonly kvPolicy: KvPolicy | undefined;
  /** One buffer for copying a layer's cache out at decode steps, reused by every layer and step. */
  private readonly gatherScratch = { k: new Float32Array(0), v: new Float32Array(0) };
  private processed = 0;
  private decodeSteps = 0;
  private busy = false;
  private broken: Error | undefined;
  private disposed = false;

  constructor(runtime: ModelRuntime, options: SessionOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new SparselandError('E_PARAMS', `session options must be an object, got ${describeValue(options)}`);
    }
    this.runtime = runtime;
    this.options = options;
    this.seed = expectInteger(options.seed ?? 0, 'seed', 0, 0xffffffff);
    if (options.backend !== undefined && (typeof options.backend?.attend !== 'function' || typeof options.backend?.decode !== 'function')) {
      throw new SparselandError(
        'E_PARAMS',
        `backend must implement core's Backend (attend, decode, ...), got ${describeValue(options.backend)}`,
      );
    }
    if (options.kvPolicy !== undefined && (typeof options.kvPolicy !== 'object' || options.kvPolicy === null)) {
      throw new SparselandError(
        'E_PARAMS',
        `kvPolicy must be a KvPolicy object (from a kv-policy plugin's build), got ${describeValue(options.kvPolicy)}`,
      );
    }
    this.recipe = resolveSessionRecipe(options.recipe, options.registry);
    if (options.kvPolicy !== undefined && this.recipe.compiled.kvPolicy !== undefined) {
      throw new SparselandError(
        'E_PARAMS',
        'the recipe names KV policies (its `kv` entries) and kvPolicy was given too: give the KV policy in one place',
      );
    }
    this.kvPolicy = options.kvPolicy ?? this.recipe.compiled.kvPolicy;
    this.ownsBackend = options.backend === undefined;
    this.backend = options.backend ?? createReferenceBackend();
    const { layers, kvHeads, headDim, seqLen } = runtime.config;
    this.cache = Object.freeze(Array.from({ length: layers }, (_, l) => new LayerKvCache(l, kvHeads, headDim, Math.min(seqLen, 64))));
  }

  get position(): number {
    return this.processed;
  }

  get extrapolating(): boolean {
    return this.processed > this.runtime.config.seqLen;
  }

  async prefill(tokens: readonly number[], options: PrefillOptions = {}): Promise<Float32Array> {
    const ids = this.checkTokens(tokens);
    return this.run(ids, 'prefill', options.allLogits === true);
  }

  async step(token: number): Promise<Float32Array> {
    const id = this.checkToken(token, 'step(): token');
    return this.run([id], 'decode', false);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    if (this.ownsBackend) await this.backend.dispose();
  }

  private async run(tokens: number[], phase: Phase, allLogits: boolean): Promise<Float32Array> {
    if (this.disposed) throw new SparselandError('E_PARAMS', 'this session was disposed; create a new one');
    if (this.broken) throw new SparselandError('E_PARAMS', `this session failed earlier (${this.broken.message}); create a new one`);
    if (this.busy) throw new SparselandError('E_PARAMS', 'the session is busy: await the previous prefill() or step() before the next');
    this.busy = true;
    try {
      if (phase === 'decode') this.decodeSteps++;
      const logits = await this.forward(tokens, phase, allLogits);
      this.processed += tokens.length;
      return logits;
    } catch (error) {
      // Some layers may already hold this chunk's keys: the cache is no longer consistent.
      this.broken = error as Error;
      throw error;
    } finally {
      this.busy = false;
    }
  }

  private async forward(tokens: number[], phase: Phase, allLogits: boolean): Promise<Float32Array> {
    const { config, weights, rope } = this.runtime;
    const { dim, hiddenDim, heads, kvHeads, headDim, vocabSize } = config;
    const count = tokens.length;
    const start = this.processed;
    const kvDim = kvHeads * headDim;
    const x = new Float32Array(count * dim);
    for (const [t, id] of tokens.entries()) x.set(weights.tokenEmbedding.subarray(id * dim, (id + 1) * dim), t * dim);
    const xb = new Float32Array(count * dim);
    const qRows = new Float32Array(count * dim);
    const kRows = new Float32Array(count * kvDim);
    const vRows = new Float32Array(count * kvDim);
    const gate = new Float32Array(count * hiddenDim);
    const up = new Float32Array(count * hiddenDim);

    for (let l = 0; l < config.layers; l++) {
      const w = weights.layers[l] as LlamaWeights['layers'][number];
      rmsNormRows(xb, x, w.rmsAtt, count, dim);
      matmulRows(qRows, xb, w.wq, count, dim, dim);
      matmulRows(kRows, xb, w.wk, count, dim, kvDim);
      matmulRows(vRows, xb, w.wv, count, dim, kvDim);
      rope.rotate(qRows, count, heads, start);
      rope.rotate(kRows, count, kvHeads, start);
      const q: HeadTensor = { data: splitHeads(qRows, count, heads, headDim), heads, length: count, dim: headDim };
      const k: HeadTensor = { data: splitHeads(kRows, count, kvHeads, headDim), heads: kvHeads, length: count, dim: headDim };
      const v: HeadTensor = { data: splitHeads(vRows, count, kvHeads, headDim), heads: kvHeads, length: count, dim: headDim };

      const output = phase === 'prefill' ? await this.prefillAttention(l, q, k, v, start) : await this.decodeAttention(l, q, k, v, start);
      this.options.onLayer?.({ layer: l, position: start, q, k, v, output });
      const policy = this.kvPolicy;
      const cache = this.cache[l] as LayerKvCache;
      const ctx = this.policyContext(l, phase, start + count - 1);
      if (phase === 'prefill') policy?.afterPrefill?.(cache, q, ctx);
      else policy?.afterAppend?.(cache, q, ctx);

      mergeHeads(output.data, count, heads, headDim, xb);
      matmulRows(qRows, xb, w.wo, count, dim, dim);
      addInPlace(x, qRows, count * dim);
      rmsNormRows(xb, x, w.rmsFfn, count, dim);
      matmulRows(gate, xb, w.w1, count, dim, hiddenDim);
      matmulRows(up, xb, w.w3, count, dim, hiddenDim);
      swiGlu(gate, up, count * hiddenDim);
      matmulRows(xb, gate, w.w2, count, hiddenDim, dim);
      addInPlace(x, xb, count * dim);
    }

    // Only the rows whose logits are wanted go through the final norm and the classifier.
    const first = allLogits ? 0 : count - 1;
    const rows = count - first;
    const last = x.subarray(first * dim);
    rmsNormRows(last, last, weights.rmsFinal, rows, dim);
    const logits = new Float32Array(rows * vocabSize);
    matmulRows(logits, last, weights.classifier, rows, dim, vocabSize);
    return logits;
  }

  /** A prefill chunk: the recipe over the whole cache while it is positional, else dense over what was kept. */
  private async prefillAttention(l: number, q: HeadTensor, k: HeadTensor, v: HeadTensor, start: number): Promise<HeadTensor> {
    const cache = this.cache[l] as LayerKvCache;
    // Positional: slot i holds position i for every head, so positions-based masks apply as they are.
    const positional = cache.isPositional();
    const kept = positional ? undefined : keptCache(cache);
    cache.append(k, v, start);
    if (positional) {
      const all = start === 0 ? { k, v } : cache.gather();
      return this.viaAttention(l, 'prefill', { q, k: all.k, v: all.v, qOffset: start }, this.recipe.compiled, undefined);
    }
    // The cache lost positions to a policy: slots [0, width) hold what each head kept (zero-padded), then the chunk.
    const before = kept as NonNullable<typeof kept>;
    const width = before.k.length;
    const lengths = before.lengths;
    const { heads, kvHeads } = this.runtime.config;
    const keep = (h: number, _q: number, kPos: number): boolean => kPos >= width || kPos < (lengths[kvHeadOf(h, heads, kvHeads)] as number);
    const input = { q, k: concatPositions([before.k, k]), v: concatPositions([before.v, v]), qOffset: width };
    return this.viaAttention(l, 'prefill', input, undefined, keep);
  }

  /** One decode step over the cache (the new token's key and value are appended first). */
  private async decodeAttention(l: number, q: HeadTensor, k: HeadTensor, v: HeadTensor, position: number): Promise<HeadTensor> {
    const cache = this.cache[l] as LayerKvCache;
    cache.append(k, v, position);
    const policy = this.kvPolicy;
    const selected = policy?.select?.(cache, q, this.policyContext(l, 'decode', position));
    if (selected !== undefined) return this.viaDecode(l, q, cache, this.checkSelection(selected, cache, policy as KvPolicy), position);
    // Packed low-bit slots: the backend reads the codes directly (no dequantised copy of the cache).
    if (cache.hasPacked()) return this.viaDecodePacked(l, q, cache, position);
    if (cache.isPositional() && !this.recipe.dense) {
      const all = cache.gather(undefined, { scratch: this.gatherScratch });
      return this.viaAttention(l, 'decode', { q, k: all.k, v: all.v, qOffset: position }, this.recipe.compiled, undefined);
    }
    return this.viaDecode(l, q, cache, undefined, position);
  }

  private async viaAttention(
    layer: number,
    phase: Phase,
    input: { q: HeadTensor; k: HeadTensor; v: HeadTensor; qOffset: number },
    recipe: CompiledRecipe | undefined,
    mask: ((h: number, q: number, k: number) => boolean) | undefined,
  ): Promise<HeadTensor> {
    const onAttention = this.options.onAttention;
    const result = await attention(input, {
      ...(recipe ? { recipe } : {}),
      ...(mask ? { mask } : {}),
      backend: this.backend,
      layer,
      seed: this.seed,
      causal: true,
      checkFinite: false,
      returnStats: onAttention !== undefined,
    });
    onAttention?.({ layer, phase, position: input.qOffset, queries: input.q.length, keys: input.k.length, stats: result.stats });
    return result.output;
  }

  /** backend.decode over the cache: through `selection`, or every kept slot (padding masked out when ragged). */
  private async viaDecode(
    layer: number,
    q: HeadTensor,
    cache: LayerKvCache,
    selection: TokenSelection | undefined,
    position: number,
  ): Promise<HeadTensor> {
    const { heads, kvHeads } = this.runtime.config;
    const width = cache.maxLength();
    let slots = selection;
    if (!slots) {
      let ragged = false;
      for (let g = 0; g < kvHeads; g++) if (cache.length(g) !== width) ragged = true;
      if (ragged)
        slots = TokenSelection.fromLists(
          Array.from({ length: kvHeads }, (_, g) => range(cache.length(g))),
          width,
        );
    }
    // A policy's selection: copy only the selected rows (O(selected), not O(cache)); the newest token is among them.
    const compact = selection ? cache.gatherSelected(selection) : undefined;
    const { k, v } = compact ?? cache.gather(width, { scratch: this.gatherScratch });
    const t0 = now();
    const result = await this.backend.decode({ q, k, v }, { selection: compact ? compact.selection : slots, causal: !compact });
    const attendMs = now() - t0;
    const onAttention = this.options.onAttention;
    if (onAttention) {
      let keptPairs = 0;
      for (let h = 0; h < heads; h++) {
        const g = kvHeadOf(h, heads, kvHeads);
        keptPairs += slots ? slots.slotsOf(g).length : cache.length(g);
      }
      const total = heads * (position + 1);
      const attend = attentionFlops(keptPairs, q.dim);
      onAttention({
        layer,
        phase: 'decode',
        position,
        queries: 1,
        keys: width,
        stats: { density: keptPairs / total, flops: { estimate: 0, attend, total: attend }, estimateMs: 0, attendMs },
      });
    }
    return result.output;
  }

  private policyContext(layer: number, phase: Phase, position: number): KvPolicyContext {
    return { layer, layers: this.runtime.config.layers, step: phase === 'prefill' ? 0 : this.decodeSteps, position, session: this };
  }

  /** backend.decodePacked over a cache that holds packed blocks (KIVI-style), with the step's statistics. */
  private async viaDecodePacked(layer: number, q: HeadTensor, cache: LayerKvCache, position: number): Promise<HeadTensor> {
    if (typeof this.backend.decodePacked !== 'function') {
      throw new SparselandError(
        'E_BACKEND_UNAVAILABLE',
        `backend "${this.backend.name}" has no decodePacked, but layer ${layer}'s cache holds packed slots`,
      );
    }
    const t0 = now();
    const result = await this.backend.decodePacked({ q, cache: cache.packedView() }, { causal: true });
    const attendMs = now() - t0;
    const onAttention = this.options.onAttention;
    if (onAttention) {
      const { heads, kvHeads } = this.runtime.config;
      let keptPairs = 0;
      for (let h = 0; h < heads; h++) keptPairs += cache.length(kvHeadOf(h, heads, kvHeads));
      const attend = attentionFlops(keptPairs, q.dim);
      onAttention({
        layer,
        phase: 'decode',
        position,
        queries: 1,
        keys: cache.maxLength(),
        stats: { density: keptPairs / (heads * (position + 1)), flops: { estimate: 0, attend, total: attend }, estimateMs: 0, attendMs },
      });
    }
    return result.output;
  }

  private checkSelection(selection: TokenSelection, cache: LayerKvCache, policy: KvPolicy): TokenSelection {
    const width = cache.maxLength();
    if (selection instanceof TokenSelection && selection.kvHeads === cache.kvHeads && selection.kvLength === width) {
      for (let g = 0; g < cache.kvHeads; g++) {
        const slots = selection.slotsOf(g);
        const last = slots.length > 0 ? (slots[slots.length - 1] as number) : -1;
        if (last >= cache.length(g)) {
          throw new SparselandError(
            'E_PARAMS',
            `kv policy "${policy.name}" selected slot ${last} of kv head ${g} in layer ${cache.layer}, which holds only ${cache.length(g)} slots`,
          );
        }
      }
    }
    if (!(selection instanceof TokenSelection) || selection.kvHeads !== cache.kvHeads || selection.kvLength !== width) {
      throw new SparselandError(
        'E_PARAMS',
        `kv policy "${policy.name}" must return a TokenSelection over ${cache.kvHeads} kv heads and ${width} slots for layer ${cache.layer}, got ${
          selection instanceof TokenSelection ? `${selection.kvHeads} kv heads and ${selection.kvLength} slots` : describeValue(selection)
        }`,
      );
    }
    return selection;
  }

  private checkTokens(tokens: readonly number[]): number[] {
    if (!Array.isArray(tokens) && !ArrayBuffer.isView(tokens)) {
      throw new SparselandError('E_PARAMS', `prefill(): tokens must be an array of token ids, got ${describeValue(tokens)}`);
    }
    if (tokens.length === 0) throw new SparselandError('E_PARAMS', 'prefill(): tokens must hold at least one token id');
    return Array.from(tokens, (id, i) => this.checkToken(id, `prefill(): tokens[${i}]`));
  }

  private checkToken(id: unknown, what: string): number {
    const vocab = this.runtime.config.vocabSize;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new SparselandError('E_PARAMS', `${what} must be a token id in [0, ${vocab}), got ${describeValue(id)}`);
    }
    return id;
  }
}

/** What each head of the cache holds, zero-padded to the longest head, with the real lengths. */
function keptCache(cache: LayerKvCache): { k: HeadTensor; v: HeadTensor; lengths: Int32Array } {
  const lengths = Int32Array.from({ length: cache.kvHeads }, (_, g) => cache.length(g));
  return { ...cache.gather(), lengths };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
