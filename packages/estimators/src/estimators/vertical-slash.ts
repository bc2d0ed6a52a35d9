import { defineEstimator } from '@sparseland/core';
import { IntList, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { probeLastQuerySums } from '../common/backend-ops.js';
import { QueryBlocks } from '../common/geometry.js';
import { buildSparseMask } from '../common/mask-builder.js';
import { headProbeSums } from '../common/probe-sums.js';
import { topIndices } from '../common/select.js';
import { PAPERS } from '../papers.js';
import { withRettention } from '../rettention/with-rettention.js';

/**
 * MInference's vertical-slash estimate. The last `lastQ` queries attend to every key (the probe); summing the probe
 * by column and by diagonal ranks "vertical" key columns and "slash" diagonals. The first `sinkColumns` columns and
 * the `localDiagonals` nearest diagonals are always kept. In each query block a chosen diagonal keeps the key range it
 * crosses (blockQ keys, as MInference's 64-wide slash ranges): whole key blocks go to the BlockMask, range edges and
 * chosen columns outside kept blocks to the ColumnMask.
 * Defaults are MInference's fallback head config (1000, 6096), its probe of 64 queries, 30 forced columns and 100
 * forced diagonals. MInference clamps the sizes to [30, N] and [50, N]: its vertical count includes the 30 forced
 * columns and no config or search candidate goes below (30, 50), so the schema rejects smaller values rather than
 * raising them silently; sizes above N keep every column or diagonal.
 */
const method = defineEstimator({
  name: 'vertical-slash',
  summary: 'MInference vertical-slash: a last-queries probe picks key columns and diagonals per head.',
  paper: PAPERS.minference,
  budget: { param: 'slash', denser: 'higher' },
  params: z
    .object({
      vertical: intParam(30, 1000, 'key columns kept per head, at least 30 (MInference vertical_size; fallback config 1000)'),
      slash: intParam(50, 6096, 'diagonals kept per head, at least 50 (MInference slash_size; fallback config 6096)'),
      lastQ: intParam(1, 64, 'query rows of the probe (MInference last_q 64)'),
      sinkColumns: intParam(0, 30, 'first key columns always kept (MInference forces 30)'),
      localDiagonals: intParam(0, 100, 'nearest diagonals always kept (MInference forces 100)'),
    })
    .strict(),
  build: (params) => async (input, ctx) => {
    const { shape, causal } = input;
    const { kvLength } = shape;
    const vertical = Math.min(kvLength, params.vertical);
    const slash = Math.min(kvLength, params.slash);
    const probe = await probeLastQuerySums(input, ctx, params.lastQ);
    const blocks = new QueryBlocks(shape, ctx.blockQ, causal);
    const chosen: { columns: Int32Array; diagonals: Int32Array }[] = [];
    for (let h = 0; h < shape.heads; h++) {
      const sums = headProbeSums(probe, h);
      const v = sums.vertical;
      for (let j = 0; j < Math.min(params.sinkColumns, kvLength); j++) v[j] = Infinity;
      const s = sums.slash;
      for (let d = 0; d < params.localDiagonals && sums.slashOrigin + d < s.length; d++) s[sums.slashOrigin + d] = Infinity;
      const diagonals = topIndices(s, 0, s.length, slash).map((i) => i - sums.slashOrigin);
      chosen.push({ columns: topIndices(v, 0, kvLength, vertical), diagonals });
    }
    // A row's merged diagonal ranges, collected right to left, then added left to right with the columns between
    // them: keys arrive in ascending order, so the builder does not sort the row.
    const ranges = new IntList(64);
    return buildSparseMask(shape, ctx, { causal }, (h, qb, row) => {
      const { columns, diagonals } = chosen[h] as (typeof chosen)[number];
      const first = blocks.firstPos(qb);
      const last = blocks.lastPos(qb);
      // Diagonal δ crosses this query block at keys [first − δ, last − δ]; like MInference's index builder, keep that
      // whole key range for the block (adjacent ranges merge: covered blocks become full blocks, edges columns).
      // Diagonals come sorted by δ, so their ranges move left: merge overlapping ones.
      ranges.clear();
      let a = 0;
      let b = -1;
      for (let p = 0; p < diagonals.length; p++) {
        const d = diagonals[p] as number;
        const start = first - d;
        const end = last - d + 1;
        if (end >= a && b >= a) a = Math.min(a, start);
        else {
          if (b > a) {
            ranges.push(a);
            ranges.push(b);
          }
          a = start;
          b = end;
        }
      }
      if (b > a) {
        ranges.push(a);
        ranges.push(b);
      }
      let c = 0;
      for (let p = ranges.length - 2; p >= -2; p -= 2) {
        // Columns left of the next range (all that remain after the last one), then the range itself.
        const start = p >= 0 ? (ranges.data[p] as number) : Infinity;
        for (; c < columns.length && (columns[c] as number) < start; c++) row.addKey(columns[c] as number);
        if (p < 0) break;
        const end = ranges.data[p + 1] as number;
        row.addKeys(start, end);
        while (c < columns.length && (columns[c] as number) < end) c++;
      }
    });
  },
});

export const verticalSlash = withRettention(method);
