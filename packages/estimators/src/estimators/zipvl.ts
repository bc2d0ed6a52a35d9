import { defineEstimator } from '@sparseland/core';
import { intParam, numberParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { probeLastQuerySums } from '../common/backend-ops.js';
import { QueryBlocks } from '../common/geometry.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { coverCount, topIndices } from '../common/select.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * ZipVL's adaptive ratio of important tokens. The last `lastQ` queries attend to every key (the probe); each head's
 * normalised column scores are averaged over the layer's heads and the layer keeps the fewest tokens whose score
 * covers `threshold` (τ) of the mass, so the ratio adapts per layer (and per input) instead of being fixed. Each head
 * then keeps its own top tokens of that count as key columns; query blocks also keep their own positions.
 * τ = 0.975 and the 64-query probe are this library's reading of the paper (no reference code is public).
 */
const method = defineEstimator({
  name: 'zipvl',
  summary: 'ZipVL adaptive ratio: per layer, the fewest tokens covering τ of the probe’s attention become key columns.',
  paper: PAPERS.zipvl,
  budget: { param: 'threshold', denser: 'higher' },
  params: z
    .object({
      threshold: numberParam(0, 1, 0.975, 'τ: attention mass the layer’s important tokens must cover'),
      lastQ: intParam(1, 64, 'query rows of the probe'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { heads, kvLength } = shape;
    // Each head's column sums of the probe, averaged over its rows, and their mean over heads for the layer.
    const probe = await probeLastQuerySums(input, ctx, params.lastQ);
    const perHead: Float64Array[] = [];
    const layer = new Float64Array(kvLength);
    for (let h = 0; h < heads; h++) {
      const scores = probe.vertical.subarray(h * kvLength, (h + 1) * kvLength);
      for (let j = 0; j < kvLength; j++) {
        scores[j] = (scores[j] as number) / probe.rows;
        layer[j] = (layer[j] as number) + (scores[j] as number) / heads;
      }
      perHead.push(scores);
    }
    const count = coverCount(layer, 0, kvLength, params.threshold);
    // Each head's columns (ascending) as runs of consecutive keys: a row adds the runs up to its last key, so whole
    // key blocks go in at once.
    const runs = perHead.map((scores) => keyRuns(topIndices(scores, 0, kvLength, count)));
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      row.addKeys(blocks.firstPos(qb), blocks.lastPos(qb) + 1);
      const list = runs[h] as Int32Array;
      const last = blocks.lastKey(qb);
      for (let p = 0; p < list.length && (list[p] as number) <= last; p += 2) row.addKeys(list[p] as number, list[p + 1] as number);
    });
  },
});

export const zipvl = withRettention(method);

/** Ascending keys as [start, end) runs of consecutive keys, flattened: [s0, e0, s1, e1, …]. */
function keyRuns(keys: Int32Array): Int32Array {
  const out: number[] = [];
  for (let p = 0; p < keys.length; ) {
    const start = keys[p] as number;
    let end = start + 1;
    while (++p < keys.length && keys[p] === end) end++;
    out.push(start, end);
  }
  return Int32Array.from(out);
}
