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
import { describeValue, expectInteger, KvMirror, type KvPolicy, type KvPolicyContext, LayerKvCache } from '@sparseland/core/kit';
import type { ModelConfig } from '../checkpoint/config.js';
import type { LlamaWeights } from '../checkpoint/weights.js';
import { addInPlace, mergeHeads, rmsNormRows, splitHeads, swiGluRows } from './layers.js';
import type { LinearCache } from './linears.js';
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
  /** The weight matrices prepared on each backend (shared by the model's sessions). */
  readonly linears: LinearCache;
}

/** Activations of one forward pass: [count × width] rows each. */
interface WorkBuffers {
  readonly count: number;
  readonly x: Float32Array;
  readonly xb: Float32Array;
  /** The fused q|k|v projection. */
  readonly qkv: Float32Array;
  /** Output of the attention and down projections, added to x. */
  readonly proj: Float32Array;
  /** The fused gate|up projection. */
  readonly ffn: Float32Array;
  readonly hidden: Float32Array;
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
 * - decode steps read the backend's KV store (a mirror of the cache, see KvMirror) with the policy's TokenSelection
 *   when `select` returns one; otherwise, while the cache holds every position, a non-dense recipe runs like a prefill
 *   of one token (so decode and prefill agree), and dense decoding or an evicted cache reads every kept slot.
 *
 * Matrix products run on the backend (`prepareLinear`, prepared once per model and backend); RMSNorm, RoPE, SwiGLU
 * and the residual adds run here, in place, on buffers a decode step reuses.
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
  /** Per layer, the backend's copy of the cache that decode steps read (made at the first decode). */
  private readonly mirrors: (KvMirror | undefined)[];
  /** Reused by every one-token forward pass. */
  private stepBuffers: WorkBuffers | undefined;
  /** One buffer for copying a layer's cache out when a sparse recipe decodes through attention(). */
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
    const missing = (['attend', 'prepareLinear', 'createKvStore'] as const).filter(
      (op) => typeof (options.backend as Partial<Backend> | undefined)?.[op] !== 'function',
    );
    if (options.backend !== undefined && missing.length > 0) {
      throw new SparselandError(
        'E_PARAMS',
        `backend must implement core's Backend (attend, prepareLinear, createKvStore, ...), got ${describeValue(options.backend)} without ${missing.join(', ')}`,
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
    this.mirrors = new Array(layers).fill(undefined);
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
    for (const mirror of this.mirrors) {
      try {
        mirror?.dispose();
      } catch {
        // The caller disposed the backend first: it freed the store with everything else.
      }
    }
    this.mirrors.fill(undefined);
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
    const linears = await this.runtime.linears.of(this.backend);
    const count = tokens.length;
    const start = this.processed;
    const kvDim = kvHeads * headDim;
    const qkvWidth = dim + 2 * kvDim;
    const { x, xb, qkv, proj, ffn, hidden } = this.workBuffers(count);
    for (const [t, id] of tokens.entries()) x.set(weights.tokenEmbedding.subarray(id * dim, (id + 1) * dim), t * dim);

    for (let l = 0; l < config.layers; l++) {
      const w = weights.layers[l] as LlamaWeights['layers'][number];
      const lin = linears.layers[l] as (typeof linears.layers)[number];
      rmsNormRows(xb, x, w.rmsAtt, count, dim);
      await lin.qkv.run(xb, count, qkv);
      const q: HeadTensor = { data: splitHeads(qkv, count, heads, headDim, qkvWidth, 0), heads, length: count, dim: headDim };
      const k: HeadTensor = { data: splitHeads(qkv, count, kvHeads, headDim, qkvWidth, dim), heads: kvHeads, length: count, dim: headDim };
      const v: HeadTensor = {
        data: splitHeads(qkv, count, kvHeads, headDim, qkvWidth, dim + kvDim),
        heads: kvHeads,
        length: count,
        dim: headDim,
      };
      rope.rotateHeads(q.data, heads, count, start);
      rope.rotateHeads(k.data, kvHeads, count, start);

      const output = phase === 'prefill' ? await this.prefillAttention(l, q, k, v, start) : await this.decodeAttention(l, q, k, v, start);
      this.options.onLayer?.({ layer: l, position: start, q, k, v, output });
      const policy = this.kvPolicy;
      const cache = this.cache[l] as LayerKvCache;
      const ctx = this.policyContext(l, phase, start + count - 1);
      if (phase === 'prefill') policy?.afterPrefill?.(cache, q, ctx);
      else policy?.afterAppend?.(cache, q, ctx);

      mergeHeads(output.data, count, heads, headDim, xb);
      await lin.wo.run(xb, count, proj);
      addInPlace(x, proj, count * dim);
      rmsNormRows(xb, x, w.rmsFfn, count, dim);
      await lin.w13.run(xb, count, ffn);
      swiGluRows(hidden, ffn, count, hiddenDim);
      await lin.w2.run(hidden, count, proj);
      addInPlace(x, proj, count * dim);
    }

    // Only the rows whose logits are wanted go through the final norm and the classifier.
    const first = allLogits ? 0 : count - 1;
    const rows = count - first;
    const last = x.subarray(first * dim, count * dim);
    rmsNormRows(last, last, weights.rmsFinal, rows, dim);
    return linears.classifier.run(last, rows, new Float32Array(rows * vocabSize));
  }

  /** Activation buffers for `count` tokens: a decode step reuses one set, a prefill chunk gets its own. */
  private workBuffers(count: number): WorkBuffers {
    if (count === 1 && this.stepBuffers) return this.stepBuffers;
    const { dim, hiddenDim, kvHeads, headDim } = this.runtime.config;
    const buffers: WorkBuffers = {
      count,
      x: new Float32Array(count * dim),
      xb: new Float32Array(count * dim),
      qkv: new Float32Array(count * (dim + 2 * kvHeads * headDim)),
      proj: new Float32Array(count * dim),
      ffn: new Float32Array(count * 2 * hiddenDim),
      hidden: new Float32Array(count * hiddenDim),
    };
    if (count === 1) this.stepBuffers = buffers;
    return buffers;
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
    // Packed low-bit slots: the backend reads the codes directly (no dequantised copy of the cache); a selection over
    // a packed cache reads the dequantised rows it names.
    if (cache.hasPacked()) {
      if (selected === undefined) return this.viaDecodePacked(l, q, cache, position);
      return this.viaSelectedRows(l, q, cache, this.checkSelection(selected, cache, policy as KvPolicy), position);
    }
    if (selected !== undefined) return this.viaStore(l, q, cache, this.checkSelection(selected, cache, policy as KvPolicy), position);
    if (cache.isPositional() && !this.recipe.dense) {
      const all = cache.gather(undefined, { scratch: this.gatherScratch });
      return this.viaAttention(l, 'decode', { q, k: all.k, v: all.v, qOffset: position }, this.recipe.compiled, undefined);
    }
    return this.viaStore(l, q, cache, undefined, position);
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

  /**
   * A decode step through the backend's KV store (synced with the cache first): the selected slots, or every slot
   * each head kept (heads of different lengths read only their own slots).
   */
  private async viaStore(
    layer: number,
    q: HeadTensor,
    cache: LayerKvCache,
    selection: TokenSelection | undefined,
    position: number,
  ): Promise<HeadTensor> {
    let mirror = this.mirrors[layer];
    if (!mirror) {
      mirror = await KvMirror.create(this.backend, cache);
      this.mirrors[layer] = mirror;
    }
    const store = await mirror.sync(cache);
    const t0 = now();
    const result = await store.decode(q, { selection, causal: true });
    this.reportDecode(layer, position, q, cache, selection, now() - t0);
    return result.output;
  }

  private policyContext(layer: number, phase: Phase, position: number): KvPolicyContext {
    return { layer, layers: this.runtime.config.layers, step: phase === 'prefill' ? 0 : this.decodeSteps, position, session: this };
  }

  /** backend.decodePacked over a cache that holds packed blocks (KIVI-style): the codes are read as they are stored. */
  private async viaDecodePacked(layer: number, q: HeadTensor, cache: LayerKvCache, position: number): Promise<HeadTensor> {
    if (typeof this.backend.decodePacked !== 'function') {
      throw new SparselandError(
        'E_BACKEND_UNAVAILABLE',
        `backend "${this.backend.name}" has no decodePacked, but layer ${layer}'s cache holds packed slots`,
      );
    }
    const t0 = now();
    const result = await this.backend.decodePacked({ q, cache: cache.packedView() }, { causal: true });
    this.reportDecode(layer, position, q, cache, undefined, now() - t0);
    return result.output;
  }

  /** A selection over a cache with packed slots: the selected rows, dequantised, through backend.decode. */
  private async viaSelectedRows(
    layer: number,
    q: HeadTensor,
    cache: LayerKvCache,
    selection: TokenSelection,
    position: number,
  ): Promise<HeadTensor> {
    const compact = cache.gatherSelected(selection);
    const t0 = now();
    const result = await this.backend.decode({ q, k: compact.k, v: compact.v }, { selection: compact.selection, causal: false });
    this.reportDecode(layer, position, q, cache, selection, now() - t0);
    return result.output;
  }

  /** The attention event of a decode step: pairs read over every token written so far. */
  private reportDecode(
    layer: number,
    position: number,
    q: HeadTensor,
    cache: LayerKvCache,
    selection: TokenSelection | undefined,
    attendMs: number,
  ): void {
    const onAttention = this.options.onAttention;
    if (!onAttention) return;
    const { heads, kvHeads } = this.runtime.config;
    let keptPairs = 0;
    for (let h = 0; h < heads; h++) {
      const g = kvHeadOf(h, heads, kvHeads);
      keptPairs += selection ? selection.slotsOf(g).length : cache.length(g);
    }
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
