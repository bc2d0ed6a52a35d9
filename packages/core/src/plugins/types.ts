import type { z } from 'zod';
import type { AttendResult, Backend } from '../backend.js';
import type { CostMeter } from '../cost.js';
import type { KvPolicy } from '../kv-policy.js';
import type { MaskMod, ScoreMod } from '../masks/mask-mod.js';
import type { SparseMask } from '../masks/sparse-mask.js';
import type { HeadTensor } from '../tensor/head-tensor.js';
import type { AttentionInput, AttentionShape, MaskShape } from '../tensor/shape.js';

export type PluginKind = 'pattern' | 'estimator' | 'backend' | 'kv-policy';

/** Where a method comes from: shown by `sparseland list`, the docs and the playground. */
export interface PaperRef {
  readonly title: string;
  readonly year: number;
  readonly url: string;
  readonly authors?: string;
}

/** What every plugin has. `params` is a zod schema with the paper's defaults; `parseParams` applies it. */
export interface PluginBase<K extends PluginKind, S extends z.ZodType> {
  readonly kind: K;
  /** Unique in a registry, kebab-case; used in every error message about this plugin. */
  readonly name: string;
  /** One sentence: what it does. */
  readonly summary: string;
  readonly paper?: PaperRef | undefined;
  readonly params: S;
  /** Package and version the plugin ships in. */
  readonly meta?: { readonly package?: string; readonly version?: string } | undefined;
  /** Validates user parameters and fills defaults; throws E_PARAMS naming the JSON path and what was allowed. */
  parseParams(input: unknown, path?: readonly PropertyKey[]): z.output<S>;
}

/** Block sizes a mask should be built with (the backend's preferred tiles). */
export interface MaskBuildOptions {
  readonly blockQ: number;
  readonly blockK: number;
}

/** What a pattern's `build(params)` returns. */
export interface PatternInstance {
  /**
   * The exact definition on absolute positions: the oracle the fast builder is tested against. Absent for
   * patterns that keep every pair and only change scores (ALiBi and other biases).
   */
  maskMod?(shape: MaskShape): MaskMod;
  /** Fast direct builder (no O(N²) loop over pairs). Absent: core uses createBlockMask(maskMod). */
  mask?(shape: MaskShape, options: MaskBuildOptions): SparseMask;
  /** A static logit bias or transform, applied on top of the mask. */
  scoreMod?(shape: MaskShape): ScoreMod;
  /** True when the pattern never keeps a key after the query on its own. */
  readonly causal: boolean;
}

export interface PatternPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<'pattern', S> {
  build(params: z.output<S>): PatternInstance;
}

/** Q and K an estimator looks at, with the call's geometry. */
export interface EstimatorInput {
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  /** The values, when the caller has them (attention() passes them): for estimators that read V, such as DMA. */
  readonly v?: HeadTensor;
  readonly shape: AttentionShape;
  readonly causal: boolean;
}

/** What an estimator may use: the backend for heavy ops, a cost meter to report its FLOPs, a seed, block sizes. */
export interface EstimatorContext extends MaskBuildOptions {
  readonly backend: Backend;
  readonly cost: CostMeter;
  readonly seed: number;
  readonly layer: number;
}

/** What a correction sees of the call it corrects. */
export interface CorrectionCall {
  readonly input: AttentionInput;
  readonly shape: AttentionShape;
  readonly causal: boolean;
  readonly scale: number;
  /** The mask that ran (all heads). */
  readonly mask: SparseMask;
}

/**
 * Rewrites the result of the sparse call, e.g. Re-ttention's rescaling of each row by an estimate of the softmax
 * mass the mask dropped. Corrections report their own FLOPs to `ctx.cost` (counted as estimation work). When a
 * per-head recipe mixes methods, a correction only changes the rows of the heads its method owns.
 */
export type OutputCorrection = (
  result: AttendResult,
  call: CorrectionCall,
  ctx: { backend: Backend; cost: CostMeter },
) => Promise<AttendResult>;

/** An estimator's mask together with a correction of the attention output computed with it. */
export interface EstimateResult {
  readonly mask: SparseMask;
  readonly correction?: OutputCorrection | undefined;
}

export type Estimator = (input: EstimatorInput, ctx: EstimatorContext) => Promise<SparseMask | EstimateResult>;

export interface EstimatorPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<'estimator', S> {
  build(params: z.output<S>): Estimator;
}

export interface BackendPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<'backend', S> {
  /** Higher wins when a caller asks for `auto`. */
  readonly priority: number;
  /** Probes for real (a worker that starts, an adapter that answers); never throws. */
  isSupported(): Promise<boolean>;
  /** Creates a backend; options are validated with `params`. Throws E_BACKEND_UNAVAILABLE when it cannot run. */
  create(options?: z.input<S>): Promise<Backend>;
}

export interface KvPolicyPlugin<S extends z.ZodType = z.ZodType> extends PluginBase<'kv-policy', S> {
  build(params: z.output<S>): KvPolicy;
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds plugins of every parameter type
export type AnyPlugin = PatternPlugin<any> | EstimatorPlugin<any> | BackendPlugin<any> | KvPolicyPlugin<any>;

/** The plugin type for a kind. */
export type PluginOfKind<K extends PluginKind> = Extract<AnyPlugin, { kind: K }>;
