import { defineEstimator } from '@sparseland/core';
import { intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { pooledBlockScores, probeLastQuerySums } from '../common/backend-ops.js';
import { jensenShannon, softmaxInto } from '../common/divergence.js';
import { QueryBlocks } from '../common/geometry.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { headProbeSums } from '../common/probe-sums.js';
import { coverCount, topIndices } from '../common/select.js';
import { subQueries } from '../common/sub-input.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * FlexPrefill. The last `lastQ` queries (FlexPrefill's last block of 128) attend to every key (the probe). Per head, the Jensen–Shannon distance between
 * the cheap pooled estimate (mean last-block query · mean-pooled keys, softmax over key blocks) and the probe's true
 * block distribution decides the pattern: below `tau` the head is **query-aware** (pooled Q̄K̄ᵀ block softmax, the
 * largest blocks of the whole head until they cover gamma of its rows' mass, plus a minimal vertical-slash part);
 * otherwise it is a **vertical-slash** head whose vertical and slash block budgets are the fewest probe tokens
 * covering `gamma`, converted to blocks (count // block + 1) and clamped to [minBudget, maxBudget]. Key block 0 and
 * the diagonal are always kept. Prompts no longer than max(2·lastQ, minBudget) run dense, as in the reference.
 * Defaults: gamma 0.9, tau 0.1, probe 128 (bytedance/FlexPrefill); min budget None → one block. The mask's block
 * sizes are the recipe's (the reference uses 128 for both probe and blocks).
 */
const method = defineEstimator({
  name: 'flexprefill',
  summary: 'FlexPrefill: per-head Jensen–Shannon test picks query-aware or vertical-slash blocks under a cumulative budget gamma.',
  paper: PAPERS.flexprefill,
  budget: { param: 'gamma', denser: 'higher' },
  params: z
    .object({
      gamma: numberParam(0, 1, 0.9, 'cumulative attention each head must cover (FlexPrefill README 0.9)'),
      tau: numberParam(0, 1, 0.1, 'Jensen–Shannon distance below which a head is query-aware (0.1)'),
      minBudget: intParam(0, 0, 'minimum budget in tokens per pattern (reference None = one block; scripts use 512–1024)'),
      maxBudget: z.number().int().min(1).optional().describe('maximum budget in tokens per pattern (default unlimited)'),
      lastQ: intParam(1, 128, 'query rows of the probe: the last block of FlexPrefill (block_size 128)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { blockQ, blockK } = ctx;
    const { heads, kvLength, qLength, dim } = shape;
    const qBlocks = new QueryBlocks(shape, blockQ, causal);
    const kBlocks = Math.ceil(kvLength / blockK);
    const minBlocks = Math.max(1, Math.floor(params.minBudget / blockK));
    const maxBlocks = params.maxBudget === undefined ? Infinity : Math.max(minBlocks, Math.floor(params.maxBudget / blockK));
    if (kvLength <= Math.max(2 * params.lastQ, params.minBudget)) {
      return buildSparseMask(shape, ctx, { causal, heads: 1 }, (_h, _qb, row) => row.addKeys(0, kvLength));
    }
    const probeRows = Math.min(params.lastQ, qLength);
    const probe = await probeLastQuerySums(input, ctx, probeRows);
    // The cheap estimate FlexPrefill trusts for query-aware heads: the mean probe query against mean-pooled keys.
    const lastBlock = subQueries(input, qLength - probeRows, qLength);
    const estimate = await pooledBlockScores(lastBlock, ctx, {
      blockQ: probeRows,
      blockK,
      scale: 1 / Math.sqrt(dim),
      causal,
    });
    let allBlocks: Float32Array | undefined;
    const plans: { verticals: Int32Array; slashes: Int32Array; queryAware: Uint8Array | undefined }[] = [];
    const estimateRow = new Float64Array(kBlocks);
    for (let h = 0; h < heads; h++) {
      const sums = headProbeSums(probe, h);
      ctx.cost.add(kvLength, 'estimate');
      const verticalBlocks = new Float64Array(kBlocks);
      for (let j = 0; j < kvLength; j++) {
        const kb = Math.floor(j / blockK);
        verticalBlocks[kb] = (verticalBlocks[kb] as number) + (sums.vertical[j] as number);
      }
      softmaxInto(estimate.data.subarray(h * kBlocks, (h + 1) * kBlocks), 0, kBlocks, estimateRow);
      const distance = Math.sqrt(jensenShannon(estimateRow, verticalBlocks));
      const queryAware = distance < params.tau;
      const budget = (tokens: number) => Math.min(maxBlocks, Math.max(minBlocks, Math.floor(tokens / blockK) + 1));
      // Causal diagonals are δ ≥ 0; a non-causal call also has the later ones, which FlexPrefill never ranks.
      const causalSlash = sums.slash.subarray(sums.slashOrigin);
      const nV = queryAware ? minBlocks : budget(coverCount(sums.vertical, 0, kvLength, params.gamma));
      const nS = queryAware ? minBlocks : budget(coverCount(causalSlash, 0, causalSlash.length, params.gamma));
      const slashBlocks = new Float64Array(Math.ceil(causalSlash.length / blockK));
      for (let d = 0; d < causalSlash.length; d++) {
        const o = Math.floor(d / blockK);
        slashBlocks[o] = (slashBlocks[o] as number) + (causalSlash[d] as number);
      }
      verticalBlocks[0] = Infinity;
      slashBlocks[0] = Infinity;
      let chosen: Uint8Array | undefined;
      if (queryAware) {
        allBlocks ??= (
          await pooledBlockScores(input, ctx, { blockQ, blockK, scale: 1 / Math.sqrt(dim), causal, qPool: 'mean', kPool: 'mean' })
        ).data;
        chosen = globalCoverage(allBlocks, h, qBlocks.count, kBlocks, params.gamma);
      }
      plans.push({
        verticals: topIndices(verticalBlocks, 0, kBlocks, nV),
        slashes: topIndices(slashBlocks, 0, slashBlocks.length, nS),
        queryAware: chosen,
      });
    }
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      const plan = plans[h] as (typeof plans)[number];
      const diagonal = Math.floor(qBlocks.lastKey(qb) / blockK);
      for (const kb of plan.verticals) row.addBlock(kb);
      for (const o of plan.slashes) row.addBlock(diagonal - o);
      // Slash block 0 is the diagonal; when blockQ > blockK the diagonal spans several key blocks, all kept.
      const own = qBlocks.ownKeyBlocks(qb, blockK);
      for (let kb = own.first; kb < own.last; kb++) row.addBlock(kb);
      if (plan.queryAware) {
        const base = qb * kBlocks;
        for (let kb = 0; kb < kBlocks; kb++) if (plan.queryAware[base + kb]) row.addBlock(kb);
      }
    });
  },
});

export const flexprefill = withRettention(method);

/**
 * FlexPrefill's query-aware selection: softmax each query block's pooled scores over key blocks, then keep the
 * largest entries of the whole head until they sum to gamma·(query blocks): rows compete for one global budget.
 */
function globalCoverage(scores: Float32Array, h: number, qBlocks: number, kBlocks: number, gamma: number): Uint8Array {
  const probs = new Float64Array(qBlocks * kBlocks);
  const base = h * qBlocks * kBlocks;
  const row = new Float64Array(kBlocks);
  for (let qb = 0; qb < qBlocks; qb++) {
    softmaxInto(scores.subarray(base + qb * kBlocks, base + (qb + 1) * kBlocks), 0, kBlocks, row);
    probs.set(row, qb * kBlocks);
  }
  const keep = coverCount(probs, 0, probs.length, gamma);
  const out = new Uint8Array(qBlocks * kBlocks);
  for (const i of topIndices(probs, 0, probs.length, keep)) out[i] = 1;
  return out;
}
