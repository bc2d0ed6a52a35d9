import {
  type AttentionInput,
  type AttentionOptions,
  type AttentionResult,
  attention,
  type CompiledRecipe,
  compileRecipe,
  createReferenceBackend,
  type Registry,
  SparselandError,
  type SparseMask,
} from '@sparseland/core';
import { resolveAttentionShape, resolveScale } from '@sparseland/core/kit';
import { rettentionReshape } from './reshape.js';

export interface RettentionOptions extends AttentionOptions {
  /**
   * Also add the dropped keys' output measured on the block's probe row, weighted 1 − r (Re-ttention's cached
   * residual; default false). Re-ttention reuses it across diffusion steps of the same row; across different rows of
   * a prompt it only helps where neighbouring rows drop the same keys, so the default is the reshape alone.
   */
  readonly residual?: boolean;
}

export interface RettentionResult extends AttentionResult {
  /** Estimated fraction of the dense softmax mass the mask keeps, per query head and row: `[Hq][qLength]`. */
  readonly keptMass: Float32Array;
  /** Query rows whose dense attention the probe computed (the last row of every query block). */
  readonly probeRows: readonly number[];
}

/**
 * Sparse attention with Re-ttention's statistical reshape, for any recipe or mask (patterns and hand-made masks
 * included; estimators can also turn it on themselves with their `rettention` parameter, which `attention()` applies).
 * The math is `rettentionReshape`'s: a probe of the last query row of every query block over the keys the mask drops
 * measures the softmax mass dropped there, and each row of the block is rescaled by its estimated kept fraction r = S / (S + D)
 * (plus, with `residual`, the probe's dropped-key output weighted 1 − r). The probe's FLOPs are reported as
 * estimation work. Score mods (`scoreMod`) apply to the probe too; score mods of recipe patterns do not, pass them as
 * `scoreMod`. A recipe whose estimators already apply a correction is rejected (it would be corrected twice).
 */
export async function rettentionAttention(input: AttentionInput, options: RettentionOptions = {}): Promise<RettentionResult> {
  const shape = resolveAttentionShape(input, { checkFinite: options.checkFinite ?? true });
  const residual = options.residual ?? false;
  if (typeof residual !== 'boolean') {
    throw new SparselandError('E_PARAMS', `rettentionAttention: residual must be a boolean, got ${JSON.stringify(residual)}`);
  }
  const ownBackend = options.backend === undefined;
  const backend = options.backend ?? createReferenceBackend();
  try {
    const recipe = options.recipe === undefined ? undefined : withoutCorrection(options.recipe, options.registry);
    const { residual: _residual, ...attentionOptions } = options;
    const result = await attention(input, { ...attentionOptions, recipe, backend });
    const blockQ = blockQOf(result.mask, recipe);
    if (result.mask === undefined) {
      const probeRows = Array.from({ length: Math.ceil(shape.qLength / blockQ) }, (_, b) => Math.min(shape.qLength, (b + 1) * blockQ) - 1);
      return { ...result, keptMass: new Float32Array(shape.heads * shape.qLength).fill(1), probeRows };
    }
    const causal = options.causal ?? true;
    const call = { input, shape, causal, scale: resolveScale(options.scale, shape.dim), scoreMod: options.scoreMod, mask: result.mask };
    const reshaped = await rettentionReshape(result, call, { blockQ, residual }, backend);
    const estimate = result.stats.flops.estimate + reshaped.probeFlops;
    return {
      ...result,
      output: reshaped.output,
      lse: reshaped.lse,
      keptMass: reshaped.keptMass,
      probeRows: reshaped.probeRows,
      stats: { ...result.stats, flops: { ...result.stats.flops, estimate, total: estimate + result.stats.flops.attend } },
    };
  } finally {
    if (ownBackend) await backend.dispose();
  }
}

/** The recipe, compiled, refusing to run estimators that return their own output correction. */
function withoutCorrection(recipe: NonNullable<AttentionOptions['recipe']>, registry: Registry | undefined): CompiledRecipe {
  const compiled = isCompiled(recipe) ? recipe : compileRecipe(recipe, requireRegistry(registry));
  return {
    ...compiled,
    async build(ctx) {
      const built = await compiled.build(ctx);
      if (built.correction !== undefined) {
        throw new SparselandError(
          'E_PARAMS',
          'rettentionAttention: the recipe already corrects its output (an estimator with `rettention` on); run it with attention(), or turn the option off here',
        );
      }
      return built;
    },
  };
}

function isCompiled(recipe: unknown): recipe is CompiledRecipe {
  return typeof recipe === 'object' && recipe !== null && (recipe as CompiledRecipe).kind === 'compiled-recipe';
}

function requireRegistry(registry: Registry | undefined): Registry {
  if (!registry) {
    throw new SparselandError('E_PARAMS', 'rettentionAttention: a recipe names plugins, so pass `registry` or a compiled recipe');
  }
  return registry;
}

/** The query block size the correction works on: the mask's (its ColumnMask or BlockMask), else the recipe's, else 64. */
function blockQOf(mask: SparseMask | undefined, recipe: CompiledRecipe | undefined): number {
  return mask?.blocks?.blockQ ?? mask?.columns?.blockQ ?? recipe?.blockQ ?? 64;
}
