import { defineEstimator, type HeadTensor, kvHeadOf, SparselandError } from '@sparseland/core';
import { intParam, quantizeRowTo } from '@sparseland/core/kit';
import { z } from 'zod';
import { countPooledQueries, topKeys } from '../common/backend-ops.js';
import { addFlops } from '../common/flops.js';
import { QueryBlocks } from '../common/geometry.js';
import { SparseMaskBuilder } from '../common/mask-builder.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';
import { channelImportance, topChannels } from './double-sparsity-channels.js';

/**
 * Double Sparsity. Token scores come from a few important channels only: each head's d / groupFactor channels
 * (calibrated offline with `calibrateChannels`, passed as `channels`, one list per query head; without them the
 * call's own Q and K are used for the calibration), with the key "label cache" quantised to `labelBits` and
 * logits scaled by 1/√(channels). Each query block (its mean query) keeps its `heavyConst` best keys and its own
 * positions. Defaults are DoubleSparse's heavy/recent conversion: heavy_const 256, group_factor 8, label_bits 4.
 * Double Sparsity selects per decoded token; prefill query blocks use the block's mean query.
 */
const method = defineEstimator({
  name: 'double-sparsity',
  summary: 'Double Sparsity: token scores from a few calibrated channels of a quantised label cache, top heavy tokens.',
  paper: PAPERS.doubleSparsity,
  budget: { param: 'heavyConst', denser: 'higher' },
  params: z
    .object({
      heavyConst: intParam(1, 256, 'keys kept per query (heavy_const 256)'),
      groupFactor: intParam(1, 8, 'channels used = head dim / groupFactor (group_factor 8)'),
      labelBits: z
        .number()
        .int()
        .min(0)
        .max(16)
        .default(4)
        .describe('bits of the quantised label cache: 0 or 16 = none, else 2–8 (label_bits 4)'),
      channels: z
        .array(z.array(z.number().int().min(0)))
        .optional()
        .describe('calibrated channels, one list per query head (calibrateChannels); default: calibrate on the call'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvHeads, qLength, dim } = shape;
    if (params.labelBits === 1)
      throw new SparselandError('E_PARAMS', 'double-sparsity: labelBits must be 0 (no quantisation) or at least 2, got 1');
    const count = Math.max(1, Math.floor(dim / params.groupFactor));
    let channels = params.channels;
    if (channels === undefined) {
      channels = topChannels(channelImportance(input.q, input.k, shape.qOffset), count);
      ctx.cost.add(addFlops(2 * heads * qLength * dim), 'estimate');
    } else if (channels.length !== heads || channels.some((list) => list.length === 0 || list.some((c) => c >= dim))) {
      throw new SparselandError(
        'E_PARAMS',
        `double-sparsity: channels must hold one non-empty list of channel indices below ${dim} per query head (${heads}), got ${channels.length} lists`,
      );
    }
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const builder = new SparseMaskBuilder(shape, ctx, { causal });
    for (let h = 0; h < heads; h++) {
      const list = channels[h] as number[];
      const g = kvHeadOf(h, heads, kvHeads);
      const q = gatherChannels(input.q, h, list, 0);
      const k = gatherChannels(input.k, g, list, params.labelBits);
      // Each block's heavy keys among those it sees, selected by the backend.
      const call = { q, k, qOffset: shape.qOffset, causal };
      const heavy = await topKeys(ctx, call, { queryBlock: ctx.blockQ, causal, scale: 1 / Math.sqrt(list.length) }, params.heavyConst);
      countPooledQueries(call, ctx, ctx.blockQ);
      for (let qb = 0; qb < blocks.count; qb++) {
        builder.row(h, qb, (row) => {
          row.addKeys(blocks.firstPos(qb), blocks.lastPos(qb) + 1);
          for (let t = qb * heavy.k; t < (qb + 1) * heavy.k; t++) row.addKey(heavy.indices[t] as number);
        });
      }
    }
    return builder.finish();
  },
});

export const doubleSparsity = withRettention(method);

/** One head's rows restricted to `channels`, optionally fake-quantised per token to `bits` (the label cache). */
function gatherChannels(t: HeadTensor, head: number, channels: readonly number[], bits: number): HeadTensor {
  const r = channels.length;
  const data = new Float32Array(t.length * r);
  const row = new Float64Array(r);
  const ints = new Float64Array(r);
  for (let i = 0; i < t.length; i++) {
    const base = (head * t.length + i) * t.dim;
    for (let c = 0; c < r; c++) row[c] = t.data[base + (channels[c] as number)] as number;
    if (bits >= 2 && bits < 16) {
      const scale = quantizeRowTo(row, 0, r, bits, ints, 0);
      for (let c = 0; c < r; c++) data[i * r + c] = (ints[c] as number) * scale;
    } else data.set(row, i * r);
  }
  return { data, heads: 1, length: t.length, dim: r };
}
