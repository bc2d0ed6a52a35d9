import { plantedInputs } from '@sparseland/conformance';
import { randomHeadTensor } from '@sparseland/core';
import { referenceLastQueriesAttention, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveTop } from '../../test/helpers.js';
import { verticalSlash } from './vertical-slash.js';

/** MInference's vertical-slash written out naively on the float64 probe: the oracle of the estimator. */
function twin(
  input: Parameters<typeof resolveAttentionShape>[0],
  p: { vertical: number; slash: number; lastQ: number; sinkColumns: number; localDiagonals: number },
  blockQ: number,
) {
  const shape = resolveAttentionShape(input);
  const { kvLength, qOffset, qLength } = shape;
  const probe = referenceLastQueriesAttention(input, { count: p.lastQ });
  const v = Math.min(kvLength, p.vertical);
  const s = Math.min(kvLength, p.slash);
  const picks = Array.from({ length: shape.heads }, (_, h) => {
    const vertical = new Float64Array(kvLength);
    const maxPos = qOffset + qLength - 1;
    const slash = new Float64Array(maxPos + 1);
    for (let r = 0; r < probe.rows; r++) {
      const pos = qOffset + probe.rowStart + r;
      for (let j = 0; j <= Math.min(pos, kvLength - 1); j++) {
        const a = probe.data[(h * probe.rows + r) * kvLength + j] as number;
        vertical[j] = (vertical[j] as number) + a;
        slash[pos - j] = (slash[pos - j] as number) + a;
      }
    }
    for (let j = 0; j < p.sinkColumns; j++) vertical[j] = Infinity;
    for (let d = 0; d < p.localDiagonals && d < slash.length; d++) slash[d] = Infinity;
    return { columns: naiveTop(vertical, v), diagonals: naiveTop(slash, s) };
  });
  return expectedKeys(input, blockQ, true, function* (h, qb) {
    const first = qOffset + qb * blockQ;
    const last = qOffset + Math.min(qLength, (qb + 1) * blockQ) - 1;
    const pick = picks[h] as (typeof picks)[number];
    yield* pick.columns;
    for (const d of pick.diagonals) for (let k = first - d; k <= last - d; k++) yield k;
  });
}

describe('vertical-slash', () => {
  it('keeps exactly the probe’s top columns and the key ranges of its top diagonals (float64 twin, GQA, chunked queries)', async () => {
    const q = randomHeadTensor({ heads: 4, length: 90, dim: 16, seed: 1, scale: 1.6 });
    const k = randomHeadTensor({ heads: 2, length: 330, dim: 16, seed: 2 });
    const input = { q, k, v: k };
    for (const [blockQ, blockK] of [
      [16, 32],
      [1, 8],
      [7, 5],
    ] as const) {
      const params = { vertical: 35, slash: 55, lastQ: 20, sinkColumns: 3, localDiagonals: 6 };
      const { mask, flops } = await estimate(verticalSlash, params, input, { blockQ, blockK });
      expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(twin(input, params, blockQ)));
      expect(flops).toBeGreaterThan(0);
    }
  });

  it('rejects sizes below MInference’s floor (30 columns, 50 diagonals) instead of raising them', () => {
    expect(verticalSlash.parseParams({ vertical: 30, slash: 50 })).toMatchObject({ vertical: 30, slash: 50 });
    expect(() => verticalSlash.parseParams({ vertical: 29 })).toThrow(/E_PARAMS.*params\.vertical.*>=30.*got 29/);
    expect(() => verticalSlash.parseParams({ slash: 8 })).toThrow(/E_PARAMS.*params\.slash.*>=50.*got 8/);
  });

  it('finds the planted heavy columns and diagonals: high recall at a fraction of the causal mask', async () => {
    const input = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 512, kvLength: 512, dim: 64 }, 9);
    const { mask } = await estimate(verticalSlash, { vertical: 30, slash: 50, localDiagonals: 4, sinkColumns: 2 }, input, {
      blockQ: 1,
      blockK: 16,
    });
    const { attentionRecall, density } = await import('@sparseland/core');
    const shape = resolveAttentionShape(input);
    expect(density(mask, shape)).toBeLessThan(0.35);
    expect(attentionRecall(input, mask, { rows: [100, 200, 300, 400, 511] }).mean).toBeGreaterThan(0.9);
  });
});
