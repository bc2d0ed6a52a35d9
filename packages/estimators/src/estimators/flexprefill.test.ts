import { randomHeadTensor, slicePositions } from '@sparseland/core';
import { referenceLastQueriesAttention, referencePooledScores, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { asArrays, estimate, expectedKeys, keptKeys, naiveCover, naiveTop } from '../../test/helpers.js';
import { flexprefill } from './flexprefill.js';

const q = randomHeadTensor({ heads: 4, length: 200, dim: 16, seed: 7, scale: 2 });
const k = randomHeadTensor({ heads: 2, length: 200, dim: 16, seed: 8 });
const input = { q, k, v: k };
const shape = resolveAttentionShape(input);
const [blockQ, blockK] = [16, 16];
const kBlocks = Math.ceil(200 / blockK);
const qBlocks = Math.ceil(200 / blockQ);

function softmax(row: ArrayLike<number>): Float64Array {
  const max = Math.max(...Array.from(row));
  const e = Float64Array.from(row, (x) => (x === -Infinity ? 0 : Math.exp(x - max)));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / sum);
}

/** FlexPrefill written out naively (float64 probe and pooled scores): the blocks of every (head, query block). */
function twin(p: { gamma: number; tau: number; lastQ: number }): { blocks: Set<number>[][]; queryAware: boolean[] } {
  const probe = referenceLastQueriesAttention(input, { count: p.lastQ });
  const last = { q: slicePositions(q, 200 - p.lastQ, 200), k, qOffset: 200 - p.lastQ };
  const estimateScores = referencePooledScores(last, { blockQ: p.lastQ, blockK, scale: 1 / 4, causal: true });
  const all = referencePooledScores(input, { blockQ, blockK, scale: 1 / 4, causal: true });
  const queryAware: boolean[] = [];
  const blocks = Array.from({ length: 4 }, (_, h) => {
    const vertical = new Float64Array(200);
    const slash = new Float64Array(200);
    for (let r = 0; r < probe.rows; r++) {
      const pos = probe.rowStart + r;
      for (let j = 0; j <= pos; j++) {
        const a = probe.data[(h * probe.rows + r) * 200 + j] as number;
        vertical[j] = (vertical[j] as number) + a;
        slash[pos - j] = (slash[pos - j] as number) + a;
      }
    }
    const vBlocks = new Float64Array(kBlocks);
    const sBlocks = new Float64Array(kBlocks);
    for (let j = 0; j < 200; j++) {
      vBlocks[Math.floor(j / blockK)] = (vBlocks[Math.floor(j / blockK)] as number) + (vertical[j] as number);
      sBlocks[Math.floor(j / blockK)] = (sBlocks[Math.floor(j / blockK)] as number) + (slash[j] as number);
    }
    const pHat = softmax(estimateScores.data.subarray(h * kBlocks, (h + 1) * kBlocks));
    const pTrue = vBlocks.map((x) => x / probe.rows);
    let js = 0;
    for (let b = 0; b < kBlocks; b++) {
      const m = ((pHat[b] as number) + (pTrue[b] as number)) / 2;
      if ((pHat[b] as number) > 0) js += 0.5 * (pHat[b] as number) * Math.log((pHat[b] as number) / m);
      if ((pTrue[b] as number) > 0) js += 0.5 * (pTrue[b] as number) * Math.log((pTrue[b] as number) / m);
    }
    const aware = Math.sqrt(js) < p.tau;
    queryAware.push(aware);
    const nV = aware ? 1 : Math.floor(naiveCover(vertical, p.gamma) / blockK) + 1;
    const nS = aware ? 1 : Math.floor(naiveCover(slash, p.gamma) / blockK) + 1;
    vBlocks[0] = Infinity;
    sBlocks[0] = Infinity;
    const verticals = naiveTop(vBlocks, nV);
    const slashes = naiveTop(sBlocks, nS);
    let chosen = new Set<number>();
    if (aware) {
      const flat: number[] = [];
      for (let qb = 0; qb < qBlocks; qb++)
        flat.push(...softmax(all.data.subarray((h * qBlocks + qb) * kBlocks, (h * qBlocks + qb + 1) * kBlocks)));
      chosen = new Set(naiveTop(flat, naiveCover(flat, p.gamma)));
    }
    return Array.from({ length: qBlocks }, (_, qb) => {
      const diagonal = Math.floor(Math.min(199, (qb + 1) * blockQ - 1) / blockK);
      const set = new Set<number>([...verticals, ...slashes.map((o) => diagonal - o)].filter((kb) => kb >= 0 && kb <= diagonal));
      for (let kb = 0; kb <= diagonal; kb++) if (chosen.has(qb * kBlocks + kb)) set.add(kb);
      return set;
    });
  });
  return { blocks, queryAware };
}

describe('flexprefill', () => {
  it.each([[{ gamma: 0.9, tau: 0.1, lastQ: 32 }], [{ gamma: 0.8, tau: 1, lastQ: 32 }], [{ gamma: 0.95, tau: 0.3, lastQ: 24 }]])(
    'equals the naive float64 FlexPrefill: JS test, vertical-slash budgets or global coverage (%j)',
    async (p) => {
      const { mask } = await estimate(flexprefill, p, input, { blockQ, blockK });
      const { blocks } = twin(p);
      const want = expectedKeys(input, blockQ, true, function* (h, qb) {
        for (const kb of (blocks[h] as Set<number>[])[qb] as Set<number>)
          for (let key = kb * blockK; key < (kb + 1) * blockK; key++) yield key;
      });
      expect(asArrays(keptKeys(mask, input))).toEqual(asArrays(want));
    },
  );

  it('tells query-aware heads from vertical-slash heads by tau', () => {
    expect(twin({ gamma: 0.9, tau: 1, lastQ: 32 }).queryAware).toEqual([true, true, true, true]);
    expect(twin({ gamma: 0.9, tau: 0, lastQ: 32 }).queryAware).toEqual([false, false, false, false]);
  });

  it('runs dense when the prompt is at most two probe blocks long', async () => {
    const { mask } = await estimate(flexprefill, { lastQ: 100 }, input, { blockQ, blockK });
    const kept = keptKeys(mask, input);
    expect(kept.every((rows) => rows.every((set, i) => set.size === i + 1))).toBe(true);
    expect(shape.kvLength).toBe(200);
  });

  it('a larger gamma keeps a superset; the diagonal block and key block 0 are always kept', async () => {
    const small = keptKeys((await estimate(flexprefill, { gamma: 0.7, lastQ: 32 }, input, { blockQ, blockK })).mask, input);
    const large = keptKeys((await estimate(flexprefill, { gamma: 0.97, lastQ: 32 }, input, { blockQ, blockK })).mask, input);
    small.forEach((rows, h) =>
      rows.forEach((set, i) => {
        for (const key of set) expect((large[h] as Set<number>[])[i]?.has(key)).toBe(true);
        expect(set.has(0)).toBe(true);
        expect(set.has(i)).toBe(true);
      }),
    );
  });
});
