import {
  type AttentionInput,
  type AttentionOptions,
  type AttentionResult,
  attention,
  attentionFlops,
  buildBlockMask,
  createReferenceBackend,
  type HeadTensor,
  resolveAttentionShape,
  resolveScale,
  type SparseMask,
} from '@sparseland/core';

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
 * Sparse attention with Re-ttention's statistical reshape, for any recipe or mask (so any estimator can turn it on).
 * The probe computes dense attention for the last query row of every query block; its log-sum-exp minus the sparse
 * one measures the softmax mass the mask drops there. Taking that dropped mass as the block's statistic, each row's
 * kept fraction is r = S / (S + D) (S its own kept mass, D the probe's dropped mass, both as exp(lse)), and the row
 * becomes r·O_sparse: the sparse softmax's denominator divided by r, so the kept probabilities sum to r as in dense
 * attention instead of being inflated to 1; its lse becomes log(S + D). With `residual`, the dropped keys' output
 * measured on the probe row is added with weight 1 − r (which makes the probe rows exact). The probe's FLOPs are
 * reported as estimation work. Score mods of recipe patterns are not applied to the probe; pass them as `scoreMod`.
 */
export async function rettentionAttention(input: AttentionInput, options: RettentionOptions = {}): Promise<RettentionResult> {
  const shape = resolveAttentionShape(input, { checkFinite: options.checkFinite ?? true });
  const ownBackend = options.backend === undefined;
  const backend = options.backend ?? createReferenceBackend();
  try {
    const result = await attention(input, { ...options, backend });
    const blockQ = blockQOf(result.mask, options);
    const qBlocks = Math.ceil(shape.qLength / blockQ);
    const keptMass = new Float32Array(shape.heads * shape.qLength).fill(1);
    const probeRows = Array.from({ length: qBlocks }, (_, b) => Math.min(shape.qLength, (b + 1) * blockQ) - 1);
    if (result.mask === undefined) return { ...result, keptMass, probeRows };
    const causal = options.causal ?? true;
    const positions = probeRows.map((i) => shape.qOffset + i);
    const probe = await denseRows(input, shape, probeRows, positions, causal, options, backend);
    const { dim, heads, qLength } = shape;
    const output = new Float32Array(result.output.data);
    const lse = new Float32Array(result.lse);
    const residual = options.residual ?? false;
    const dropped = new Float64Array(dim);
    for (let h = 0; h < heads; h++) {
      for (let b = 0; b < qBlocks; b++) {
        const p = probeRows[b] as number;
        const probeSparse = result.lse[h * qLength + p] as number;
        const denseLse = probe.lse[h * qBlocks + b] as number;
        const rp = probeSparse === -Infinity ? 0 : Math.min(1, Math.exp(probeSparse - denseLse));
        // The probe's dropped mass (as a log-sum-exp) is the statistic every row of the block shares.
        const dropLse = rp >= 1 ? -Infinity : denseLse + Math.log1p(-rp);
        for (let c = 0; c < dim; c++) {
          const full = probe.output.data[(h * qBlocks + b) * dim + c] as number;
          const sparse = result.output.data[(h * qLength + p) * dim + c] as number;
          // The dropped keys' own attention output on the probe row.
          dropped[c] = rp >= 1 ? 0 : (full - rp * sparse) / (1 - rp);
        }
        const r0 = b * blockQ;
        const r1 = Math.min(qLength, r0 + blockQ);
        for (let row = r0; row < r1; row++) {
          const sparseLse = result.lse[h * qLength + row] as number;
          const r = sparseLse === -Infinity ? 0 : dropLse === -Infinity ? 1 : 1 / (1 + Math.exp(dropLse - sparseLse));
          keptMass[h * qLength + row] = r;
          const at = (h * qLength + row) * dim;
          for (let c = 0; c < dim; c++) {
            output[at + c] = r * (result.output.data[at + c] as number) + (residual ? (1 - r) * (dropped[c] as number) : 0);
          }
          lse[h * qLength + row] = logAddExp(sparseLse, dropLse);
        }
      }
    }
    const probePairs = positions.reduce((acc, p) => acc + (causal ? Math.min(shape.kvLength, p + 1) : shape.kvLength), 0) * heads;
    const estimate = result.stats.flops.estimate + attentionFlops(probePairs, dim);
    return {
      ...result,
      output: { ...result.output, data: output },
      lse,
      keptMass,
      probeRows,
      stats: { ...result.stats, flops: { ...result.stats.flops, estimate, total: estimate + result.stats.flops.attend } },
    };
  } finally {
    if (ownBackend) await backend.dispose();
  }
}

/** The query block size the correction works on: the mask's (its ColumnMask or BlockMask), else the recipe's. */
function blockQOf(mask: SparseMask | undefined, options: AttentionOptions): number {
  const fromRecipe =
    typeof options.recipe === 'object' && options.recipe !== null && 'blockQ' in options.recipe ? options.recipe.blockQ : undefined;
  return mask?.blocks?.blockQ ?? mask?.columns?.blockQ ?? (typeof fromRecipe === 'number' ? fromRecipe : 64);
}

/**
 * Dense attention of a few query rows at the given absolute positions, on the backend: the rows form a
 * non-causal call whose one-row blocks keep every key up to the row's position.
 */
async function denseRows(
  input: AttentionInput,
  shape: ReturnType<typeof resolveAttentionShape>,
  rows: readonly number[],
  positions: readonly number[],
  causal: boolean,
  options: AttentionOptions,
  backend: NonNullable<AttentionOptions['backend']>,
) {
  const { heads, dim, kvLength, qLength } = shape;
  const q: HeadTensor = { data: new Float32Array(heads * rows.length * dim), heads, length: rows.length, dim };
  for (let h = 0; h < heads; h++) {
    rows.forEach((i, r) => {
      q.data.set(input.q.data.subarray((h * qLength + i) * dim, (h * qLength + i + 1) * dim), (h * rows.length + r) * dim);
    });
  }
  const blockK = 64;
  const lastKey = (r: number) => (causal ? Math.min(kvLength - 1, positions[r] as number) : kvLength - 1);
  const mask = buildBlockMask(
    { heads: 1, qLength: rows.length, kvLength, qOffset: 0 },
    { blockQ: 1, blockK },
    { heads: 1, maskMod: (_h, r, k) => k <= lastKey(r), trusted: true },
    (_h, r, full, partial) => {
      const last = lastKey(r);
      const complete = Math.floor((last + 1) / blockK);
      full.pushRange(0, complete);
      if (complete * blockK <= last) partial.push(complete);
    },
  );
  const userMod = options.scoreMod;
  const scoreMod = userMod ? (s: number, h: number, r: number, k: number) => userMod(s, h, positions[r] as number, k) : undefined;
  return backend.attend(
    { q, k: input.k, v: input.v, qOffset: 0 },
    { mask: { blocks: mask }, causal: false, scale: resolveScale(options.scale, dim), scoreMod },
  );
}

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}
