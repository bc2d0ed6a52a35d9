import { resolveAttentionOptions } from './attention-options.js';
import type { AttendResult, Backend } from './backend.js';
import { createCostMeter } from './cost.js';
import { SparselandError } from './errors.js';
import { composeScoreMods, type ScoreMod } from './masks/mask-mod.js';
import { type AttentionMask, type SparseMask, toSparseMask } from './masks/sparse-mask.js';
import { attentionFlops, countKeptPairs } from './metrics/count-pairs.js';
import type { Registry } from './plugins/registry.js';
import type { OutputCorrection } from './plugins/types.js';
import { type CompiledRecipe, compileRecipe, isCompiledRecipe } from './recipes/compile.js';
import type { Recipe } from './recipes/schema.js';
import { resolveScale } from './reference/reference-attention.js';
import { createReferenceBackend } from './reference/reference-backend.js';
import { type AttentionInput, expectCausalPositions, expectInputsInRange, resolveAttentionShape } from './tensor/shape.js';

export interface AttentionOptions {
  /** A recipe (JSON text, object, or compiled once with compileRecipe). Needs `registry` unless compiled. */
  readonly recipe?: Recipe | string | CompiledRecipe | undefined;
  /** Or a ready mask in any form. Without recipe and mask the call is dense. */
  readonly mask?: AttentionMask | undefined;
  readonly registry?: Registry | undefined;
  /** Where the kernels run (default: the float64 reference backend). */
  readonly backend?: Backend | undefined;
  /** Default true. */
  readonly causal?: boolean | undefined;
  /** Default 1/√dim. */
  readonly scale?: number | undefined;
  readonly scoreMod?: ScoreMod | undefined;
  /** Which layer this call is (per-layer recipes): an integer in [0, LIMITS.layers), default 0. */
  readonly layer?: number | undefined;
  /** Seed for randomised methods: an integer in [0, 2^32 - 1], default 0. */
  readonly seed?: number | undefined;
  /** Count kept pairs for `stats.density` and `stats.flops` (default true; the count costs O(kept blocks)). */
  readonly returnStats?: boolean | undefined;
  /**
   * Check Q, K, V first (default true): every value finite, and small enough that no logit or output overflows
   * float32 (scale·dim·max|q|·max|k| and max|v| at most LIMITS.logit); otherwise E_NONFINITE. One pass over the
   * inputs. Turn it off only for inputs already checked (the model runtime checks its own activations).
   */
  readonly checkFinite?: boolean | undefined;
}

export interface AttentionStats {
  /** Kept pairs over the pairs dense attention computes (causal triangle when causal); NaN when not counted. */
  readonly density: number;
  /** FLOPs: estimation as reported by the estimators, attention as 4·d per kept pair. */
  readonly flops: { readonly estimate: number; readonly attend: number; readonly total: number };
  readonly estimateMs: number;
  readonly attendMs: number;
}

export interface AttentionResult extends AttendResult {
  /** The mask that ran (undefined for a dense call). */
  readonly mask: SparseMask | undefined;
  readonly stats: AttentionStats;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * The entry point: validates the input once, resolves the recipe through the registry (or takes a mask), runs
 * the estimators on the given backend, then the attention itself on the same backend.
 */
export async function attention(input: AttentionInput, options: AttentionOptions = {}): Promise<AttentionResult> {
  const resolved = resolveAttentionOptions(options);
  const shape = resolveAttentionShape(input, { checkFinite: false });
  const { causal, layer } = resolved;
  expectCausalPositions(shape, causal);
  const scale = resolveScale(options.scale, shape.dim);
  if (resolved.checkFinite) expectInputsInRange(input, shape, scale);
  const ownBackend = resolved.backend === undefined;
  const backend = resolved.backend ?? createReferenceBackend();
  const cost = createCostMeter();
  try {
    const t0 = now();
    let mask: SparseMask | undefined;
    let scoreMod = resolved.scoreMod;
    let correction: OutputCorrection | undefined;
    if (options.recipe !== undefined) {
      const compiled = isCompiledRecipe(options.recipe) ? options.recipe : compileRecipe(options.recipe, requireRegistry(options.registry));
      const built = await compiled.build({
        input: { q: input.q, k: input.k, v: input.v, shape, causal },
        backend,
        cost,
        seed: resolved.seed,
        layer,
      });
      mask = built.mask === 'dense' ? undefined : built.mask;
      correction = mask ? built.correction : undefined;
      if (built.scoreMod) scoreMod = scoreMod ? composeScoreMods(built.scoreMod, scoreMod) : built.scoreMod;
    } else if (options.mask !== undefined) {
      mask = toSparseMask(options.mask, shape);
    }
    const t1 = now();
    const call = { ...input, qOffset: shape.qOffset };
    let result = await backend.attend(call, { mask, causal, scale, scoreMod });
    if (correction && mask) result = await correction(result, { input: call, shape, causal, scale, mask }, { backend, cost });
    const t2 = now();
    const counted = resolved.returnStats ? countKeptPairs(mask, shape, { causal }) : undefined;
    const attendFlops = counted ? attentionFlops(counted.kept, shape.dim) : Number.NaN;
    // Everything estimators report to the meter is estimation work.
    const estimate = cost.total;
    return {
      output: result.output,
      lse: result.lse,
      mask,
      stats: {
        density: counted ? (counted.total === 0 ? 0 : counted.kept / counted.total) : Number.NaN,
        flops: { estimate, attend: attendFlops, total: estimate + attendFlops },
        estimateMs: t1 - t0,
        attendMs: t2 - t1,
      },
    };
  } finally {
    if (ownBackend) await backend.dispose();
  }
}

function requireRegistry(registry: Registry | undefined): Registry {
  if (!registry) {
    throw new SparselandError(
      'E_PARAMS',
      'attention(): a recipe names plugins, so pass `registry` (createRegistry({plugins})) or a compiled recipe',
    );
  }
  return registry;
}
