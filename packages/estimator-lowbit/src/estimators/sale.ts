import { type BlockMask, defineEstimator, SparselandError } from '@sparseland/core';
import { buildBlockMask, channelMeans, type EstimatorContext, type EstimatorInput, intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';

/** τ at or below this makes a head dense (SALE: thresholds ≤ 1e-5 skip estimation). */
export const DENSE_THRESHOLD = 1e-5;
/** Row offset that lets every element pass (dense heads): finite, as the op requires. */
const PASS_ALL = -1e30;
/** Most query heads a `thresholds` list may name. */
export const MAX_HEADS = 1024;

export const saleParams = z
  .object({
    threshold: numberParam(0, 1, 0.004, 'relative attention score a kept element exceeds, every head (SALE README example 0.004)'),
    thresholds: z
      .array(z.number().min(0).max(1))
      .max(MAX_HEADS)
      .optional()
      .describe('per query head τ (from calibrateSale); overrides `threshold`; τ ≤ 1e-5 makes the head dense'),
    bits: z
      .union([z.literal(4), z.literal(8)])
      .default(4)
      .describe('quantisation of Q and K (SALE: symmetric int4)'),
    scales: z
      .enum(['token', 'group'])
      .default('token')
      .describe("'token': one scale per row (SALE quant_mode 2, the default); 'group': Q per 16 rows, K per 8 keys (quant_mode 3)"),
    localWindow: intParam(1, 128, 'most recent keys of each query block computed exactly (SALE local_window 128)'),
    sinkBlocks: intParam(0, 1, 'first key blocks computed exactly (SALE: the sink block)'),
  })
  .strict();

export type SaleParams = z.output<typeof saleParams>;

/**
 * SALE: K smoothed by its mean over the sequence, Q and K quantised to symmetric int4, and each element's relative
 * attention score r_ij = exp(ŝ_ij − m_i) / ℓ_i against the exact sink + local region; a block is kept when any of its
 * elements has r_ij > τ_h. Since r_ij > τ ⟺ ŝ_ij > lse_i + log τ, the region's log-sum-exp (one sparse attend
 * call over the exact blocks) becomes a per-row offset of the backend's quantizedScores, whose block maxima are
 * then compared with 0: the per-element test runs inside the kernel. SALE refreshes m and ℓ every 256-key segment
 * from the blocks its fused kernel has already computed; an estimator that runs before attention has only the
 * exact region, so its test is the more conservative one (an interpretation). Blocks are the recipe's (SALE: 64×32).
 */
export const sale = defineEstimator({
  name: 'sale',
  summary: 'SALE: int4 Q·K estimates against the exact sink and local region; a block is kept when any element passes.',
  paper: PAPERS.sale,
  params: saleParams,
  build: (params) => async (input, ctx) => ({ blocks: await saleMask(input, ctx, params) }),
});

/** The exact region of each query block: the sink blocks and the key blocks within `localWindow` of its rows. */
export function exactRegion(
  input: EstimatorInput,
  ctx: { blockQ: number; blockK: number },
  params: Pick<SaleParams, 'localWindow' | 'sinkBlocks'>,
): BlockMask {
  const { shape } = input;
  const kBlocks = Math.ceil(shape.kvLength / ctx.blockK);
  return buildBlockMask(shape, ctx, { heads: 1, trusted: true }, (_h, qb, full) => {
    const first = shape.qOffset + qb * ctx.blockQ;
    const last = Math.min(shape.kvLength - 1, shape.qOffset + Math.min(shape.qLength, (qb + 1) * ctx.blockQ) - 1);
    const lastBlock = input.causal ? Math.floor(last / ctx.blockK) : kBlocks - 1;
    const localFrom = Math.max(0, Math.floor((first - params.localWindow + 1) / ctx.blockK));
    const sinkEnd = Math.min(params.sinkBlocks, lastBlock + 1);
    for (let kb = 0; kb < sinkEnd; kb++) full.push(kb);
    for (let kb = Math.max(sinkEnd, Math.min(localFrom, lastBlock)); kb <= lastBlock; kb++) full.push(kb);
  });
}

/** Per head τ from the params, checked against the call's heads. */
export function headThresholds(params: Pick<SaleParams, 'threshold' | 'thresholds'>, heads: number): number[] {
  if (params.thresholds === undefined) return Array.from({ length: heads }, () => params.threshold);
  if (params.thresholds.length !== heads) {
    throw new SparselandError('E_PARAMS', `sale thresholds must give one τ per query head (${heads}), got ${params.thresholds.length}`);
  }
  return [...params.thresholds];
}

/**
 * The SALE block values of a call: per (head, query block, key block), max over the block's elements of
 * ŝ_ij − lse_i (the log of the largest relative attention score), with lse over the exact region; -Infinity where
 * no element is visible. A block passes τ when its value exceeds log τ.
 */
export async function saleBlockValues(
  input: EstimatorInput,
  ctx: EstimatorContext,
  params: SaleParams,
  exact: BlockMask,
  rowOffsets?: Float32Array,
) {
  const { shape } = input;
  const { heads, kvHeads, qLength, kvLength, dim } = shape;
  const scale = 1 / Math.sqrt(dim);
  // The exact region's log-sum-exp per row (V does not matter for it: K stands in when the call has no values).
  const exactRun = await ctx.backend.attend(
    { q: input.q, k: input.k, v: input.v ?? input.k, qOffset: shape.qOffset },
    { mask: { blocks: exact }, causal: input.causal, scale },
  );
  // Smoothing subtracts scale·q_i·mean(K) from every estimated logit of row i: the same shift goes into the offset.
  const means = channelMeans(input.k.data, kvHeads, kvLength, dim);
  const bias = new Float32Array(heads * qLength);
  for (let h = 0; h < heads; h++) {
    const g = Math.floor(h / (heads / kvHeads));
    for (let i = 0; i < qLength; i++) {
      let dot = 0;
      for (let c = 0; c < dim; c++) dot += (input.q.data[(h * qLength + i) * dim + c] as number) * (means[g * dim + c] as number);
      const lse = exactRun.lse[h * qLength + i] as number;
      const offset = rowOffsets ? (rowOffsets[h * qLength + i] as number) : 0;
      bias[h * qLength + i] = Number.isFinite(lse) ? lse - scale * dot + offset : PASS_ALL;
    }
  }
  const pooled = await ctx.backend.quantizedScores(
    { q: input.q, k: input.k, qOffset: shape.qOffset },
    {
      bits: params.bits,
      smoothK: true,
      scale,
      causal: input.causal,
      pool: { blockQ: ctx.blockQ, blockK: ctx.blockK },
      rowBias: bias,
      ...(params.scales === 'group' ? { groups: { q: 16, k: 8 } } : {}),
    },
  );
  if (pooled.kind !== 'blocks') throw new SparselandError('E_SHAPE', 'sale: the backend returned rows for a pooled quantizedScores call');
  return pooled;
}

/** Counts of the work: exact pairs (QK and PV, 4·d each), estimated pairs (int dot products, 2·d each), offsets. */
function chargeCost(input: EstimatorInput, ctx: EstimatorContext, exact: BlockMask): void {
  const { heads, qLength, kvLength, dim, qOffset } = input.shape;
  let estimated = 0;
  for (let i = 0; i < qLength; i++) estimated += input.causal ? Math.max(0, Math.min(kvLength, qOffset + i + 1)) : kvLength;
  let exactPairs = 0;
  for (let qb = 0; qb < exact.qBlocks; qb++) {
    const rows = Math.min(qLength, (qb + 1) * ctx.blockQ) - qb * ctx.blockQ;
    for (const kb of exact.fullBlocks(0, qb)) exactPairs += rows * Math.min(ctx.blockK, kvLength - kb * ctx.blockK);
  }
  ctx.cost.add(heads * exactPairs * 4 * dim, 'exact region');
  ctx.cost.add(heads * estimated * 2 * dim, 'int4 estimate');
  ctx.cost.add(heads * qLength * 2 * dim, 'row offsets');
}

export async function saleMask(input: EstimatorInput, ctx: EstimatorContext, params: SaleParams): Promise<BlockMask> {
  const { shape } = input;
  const thresholds = headThresholds(params, shape.heads);
  const exact = exactRegion(input, ctx, params);
  chargeCost(input, ctx, exact);
  // log τ moves into the offsets, so a block passes when its value is > 0.
  const offsets = new Float32Array(shape.heads * shape.qLength);
  for (let h = 0; h < shape.heads; h++) {
    const tau = thresholds[h] as number;
    offsets.fill(tau <= DENSE_THRESHOLD ? PASS_ALL : Math.log(tau), h * shape.qLength, (h + 1) * shape.qLength);
  }
  const values = await saleBlockValues(input, ctx, params, exact, offsets);
  return blocksAbove(values.data, shape, ctx, exact, input.causal, (h) => ((thresholds[h] as number) <= DENSE_THRESHOLD ? -Infinity : 0));
}

/** Keeps the exact region and every visible block whose value exceeds cutoff(h). */
export function blocksAbove(
  data: Float32Array,
  shape: EstimatorInput['shape'],
  ctx: { blockQ: number; blockK: number },
  exact: BlockMask,
  causal: boolean,
  cutoff: (h: number) => number,
): BlockMask {
  const qBlocks = Math.ceil(shape.qLength / ctx.blockQ);
  const kBlocks = Math.ceil(shape.kvLength / ctx.blockK);
  return buildBlockMask(shape, ctx, { trusted: true }, (h, qb, full) => {
    const last = Math.min(shape.kvLength - 1, shape.qOffset + Math.min(shape.qLength, (qb + 1) * ctx.blockQ) - 1);
    const lastBlock = causal ? Math.floor(last / ctx.blockK) : kBlocks - 1;
    const keep = exact.fullBlocks(0, qb);
    const c = cutoff(h);
    let e = 0;
    const base = (h * qBlocks + qb) * kBlocks;
    for (let kb = 0; kb <= lastBlock; kb++) {
      while (e < keep.length && (keep[e] as number) < kb) e++;
      if ((keep[e] as number) === kb || (data[base + kb] as number) > c) full.push(kb);
    }
  });
}
