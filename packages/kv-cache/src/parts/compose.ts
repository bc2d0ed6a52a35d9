import { type HeadTensor, TokenSelection } from '@sparseland/core';
import type { KvBudget, KvCacheLayer, KvPolicy, KvPolicyContext } from '@sparseland/core/kit';
import { budgetFor, notePrompt } from './budget.js';
import { perCache } from './per-cache.js';
import { type Protect, protectedSlots } from './protect.js';
import { keepTop } from './top-k.js';

/** What a scorer sees at one hook: the layer's cache, the hook's queries (after RoPE) and their positions. */
export interface ScoreInput {
  readonly cache: KvCacheLayer;
  readonly ctx: KvPolicyContext;
  readonly phase: 'prefill' | 'decode';
  /** The prompt's queries at prefill, the step's one query at decode: [Hq, rows, dim]. */
  readonly queries: HeadTensor;
  /** Absolute position of query row i. */
  position(i: number): number;
}

/**
 * A **scorer**: what each cached slot of a kv head is worth (higher = keep). It may keep per-cache state (running
 * sums, page bounds, a window of recent queries) which `observe` updates at every hook before any scoring, and which
 * `retain` compacts when slots are evicted.
 */
export interface Scorer<S = unknown> {
  create(cache: KvCacheLayer): S;
  observe?(state: S, input: ScoreInput): void;
  /** One score per slot of kv head g (length(g) entries). */
  score(state: S, input: ScoreInput, g: number): Float64Array;
  retain?(state: S, g: number, slots: Int32Array): void;
  stateBytes?(state: S): number;
}

/**
 * A **selector**: which slots each kv head keeps, given every head's scores, its budget and its protected slots.
 * Default: top-k per head (`keepTop`).
 */
export type Selector = (scores: readonly Float64Array[], budget: number, protect: readonly Uint8Array[]) => Int32Array[];

export const topKPerHead: Selector = (scores, budget, protect) => scores.map((s, g) => keepTop(s, budget, protect[g]));

/**
 * A **schedule**: when the policy acts. `prefill`: once the prompt is in the cache; `decode: 'over-budget'`: after
 * a decode step whenever a head holds more than its budget (so the budget holds after every step, as kvpress's
 * DecodingPress does at interval 1); `decode: 'every-step'`: select before every step's attention.
 */
export interface Schedule {
  readonly prefill: boolean;
  readonly decode: 'over-budget' | 'every-step' | 'never';
}

/**
 * A **storage action**: 'evict' drops the slots not kept (memory is freed per head); 'select' keeps everything
 * and returns the kept slots as the step's TokenSelection (Quest, Double Sparsity).
 */
export type StorageAction = 'evict' | 'select';

export interface ComposedPolicySpec<S> {
  readonly name: string;
  readonly scorer: Scorer<S>;
  readonly selector?: Selector | undefined;
  readonly schedule: Schedule;
  readonly action: StorageAction;
  /** Slots per kv head (integer) or a fraction of the prompt (see budgetParam). */
  readonly budget: number;
  /** Per-layer budget from the resolved per-head budget (PyramidKV); default: the same for every layer. */
  readonly layerBudget?: ((budget: number, ctx: KvPolicyContext) => number) | undefined;
  /** Slots always kept (sinks, recent window), or a function of the resolved per-head budget (H2O's recent half). */
  readonly protect?: Protect | ((budget: number) => Protect) | undefined;
  /** Layers below this read the whole cache ('select' only: Quest and Double Sparsity keep the first 2 dense). */
  readonly denseLayers?: number | undefined;
}

/**
 * Builds a KvPolicy from a scorer, a selector, a schedule and a storage action: what most policy files are (see
 * policies/h2o.ts). The budget is per kv head; protected slots (sinks, recent window, the newest token) are always
 * kept and count against it.
 */
export function composePolicy<S>(spec: ComposedPolicySpec<S>): KvPolicy {
  const { scorer, schedule, action } = spec;
  const selector = spec.selector ?? topKPerHead;
  const protectFor = (budget: number): Protect => (typeof spec.protect === 'function' ? spec.protect(budget) : (spec.protect ?? {}));
  const state = perCache((cache) => scorer.create(cache));
  const headBudget = (cache: KvCacheLayer, ctx: KvPolicyContext): number => {
    const b = budgetFor(cache, spec.budget);
    return spec.layerBudget ? spec.layerBudget(b, ctx) : b;
  };
  const dense = (ctx: KvPolicyContext): boolean => action === 'select' && ctx.layer < (spec.denseLayers ?? 0);
  const input = (cache: KvCacheLayer, queries: HeadTensor, ctx: KvPolicyContext, phase: 'prefill' | 'decode'): ScoreInput => ({
    cache,
    ctx,
    phase,
    queries,
    position: (i) => ctx.position - (queries.length - 1 - i),
  });
  /** Per head, the slots to keep, or undefined when every head fits its budget. */
  const choose = (cache: KvCacheLayer, scoreInput: ScoreInput, budget: number): Int32Array[] | undefined => {
    let over = false;
    for (let g = 0; g < cache.kvHeads; g++) if (cache.length(g) > budget) over = true;
    if (!over) return undefined;
    const s = state(cache);
    const scores: Float64Array[] = [];
    const protectedMasks: Uint8Array[] = [];
    const protect = protectFor(budget);
    for (let g = 0; g < cache.kvHeads; g++) {
      scores.push(scorer.score(s, scoreInput, g));
      protectedMasks.push(protectedSlots(cache, g, protect));
    }
    return selector(scores, budget, protectedMasks);
  };
  const evict = (cache: KvCacheLayer, scoreInput: ScoreInput): void => {
    const kept = choose(cache, scoreInput, headBudget(cache, scoreInput.ctx));
    if (!kept) return;
    const s = state(cache);
    kept.forEach((slots, g) => {
      if (slots.length === cache.length(g)) return;
      cache.retain(g, slots);
      scorer.retain?.(s, g, slots);
    });
  };

  const policy: KvPolicy = {
    name: spec.name,
    afterPrefill(cache, queries, ctx) {
      notePrompt(cache);
      const scoreInput = input(cache, queries, ctx, 'prefill');
      scorer.observe?.(state(cache), scoreInput);
      if (action === 'evict' && schedule.prefill) evict(cache, scoreInput);
    },
    ...(action === 'select'
      ? {
          select(cache: KvCacheLayer, query: HeadTensor, ctx: KvPolicyContext): TokenSelection | undefined {
            const scoreInput = input(cache, query, ctx, 'decode');
            scorer.observe?.(state(cache), scoreInput);
            if (dense(ctx) || schedule.decode === 'never') return undefined;
            const kept = choose(cache, scoreInput, headBudget(cache, ctx));
            if (!kept) return undefined;
            return selectionOf(cache, kept);
          },
        }
      : {
          afterAppend(cache: KvCacheLayer, query: HeadTensor, ctx: KvPolicyContext) {
            const scoreInput = input(cache, query, ctx, 'decode');
            scorer.observe?.(state(cache), scoreInput);
            if (schedule.decode === 'over-budget') evict(cache, scoreInput);
          },
        }),
    budget(cache: KvCacheLayer, ctx: KvPolicyContext): KvBudget {
      const b = headBudget(cache, ctx) * cache.kvHeads;
      if (action === 'evict') return { slots: b };
      return dense(ctx) ? {} : { selected: b };
    },
    stateBytes(cache: KvCacheLayer) {
      return scorer.stateBytes?.(state(cache)) ?? 0;
    },
  };
  return Object.freeze(policy);
}

/** A TokenSelection over the cache (kvLength = the longest head) from each head's kept slots. */
export function selectionOf(cache: KvCacheLayer, kept: readonly Int32Array[]): TokenSelection {
  let width = 0;
  for (let g = 0; g < cache.kvHeads; g++) width = Math.max(width, cache.length(g));
  const rowPtr = new Int32Array(kept.length + 1);
  let total = 0;
  kept.forEach((k, g) => {
    total += k.length;
    rowPtr[g + 1] = total;
  });
  const slots = new Int32Array(total);
  kept.forEach((k, g) => {
    slots.set(k, rowPtr[g] as number);
  });
  return new TokenSelection({ kvHeads: kept.length, kvLength: width, rowPtr, slots }, { trusted: true });
}
