import { randomHeadTensor, referenceAttention, TokenSelection } from '@sparseland/core';
import { type BlockScores, referenceLastQueriesAttention, referenceQuantizedScores, type ScoreRows } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { createGpujsBackend } from '../src/index.js';
import { blocksPerRow, MAX_GRID_ROWS, tileGridIndex, tileGridSize } from '../src/kernels/grid-layout.js';

describe('packed output grids (WebGL2 texture and WebGPU dispatch limits)', () => {
  it('packs tiles side by side only past the row limit, and indexes them row-major', () => {
    expect(blocksPerRow(10, 64)).toBe(1);
    expect(blocksPerRow(MAX_GRID_ROWS / 64 + 1, 64)).toBe(2);
    expect(tileGridSize(5, 4, 2, 2)).toEqual([4, 12]);
    // Item 3 of a 2-wide packing sits in tile row 1, tile column 1.
    expect(tileGridIndex(3, 1, 1, 4, 2, 2)).toBe((1 * 4 + 1) * 4 + 2 + 1);
  });

  for (const mode of ['webasm', 'cpu'] as const) {
    it(`${mode}: a call whose score grid and output exceed ${MAX_GRID_ROWS} rows matches the reference`, async () => {
      const backend = await createGpujsBackend({ mode });
      try {
        // 8,200 query rows against 40 keys: 129 query tiles of 64 rows → 8,256 score rows, 8,200 output rows.
        const q = randomHeadTensor({ heads: 1, length: 8200, dim: 4, seed: 1 });
        const k = randomHeadTensor({ heads: 1, length: 40, dim: 4, seed: 2 });
        const v = randomHeadTensor({ heads: 1, length: 40, dim: 4, seed: 3 });
        const input = { q, k, v, qOffset: 0 };
        const want = referenceAttention(input, { causal: false });
        const got = await backend.attend(input, { causal: false });
        let worst = 0;
        for (let i = 0; i < want.output.data.length; i++) worst = Math.max(worst, Math.abs(got.output.data[i]! - want.output.data[i]!));
        expect(worst).toBeLessThan(1e-5);
        // The same through decode over a selection, with a host scoreMod (scores read back from the packed grid).
        const selection = TokenSelection.fromLists([[0, 3, 7, 39]], 40);
        const mod = (s: number, _h: number, qPos: number, kPos: number) => s - 0.01 * (qPos % 7) * kPos;
        const wantDecode = (await import('@sparseland/core')).referenceDecode(input, { selection, causal: false, scoreMod: mod });
        const gotDecode = await backend.decode(input, { selection, causal: false, scoreMod: mod });
        let worstDecode = 0;
        for (let i = 0; i < wantDecode.lse.length; i++)
          worstDecode = Math.max(worstDecode, Math.abs(gotDecode.lse[i]! - wantDecode.lse[i]!));
        expect(worstDecode).toBeLessThan(1e-4);
      } finally {
        await backend.dispose();
      }
    });
  }

  it('webasm: estimator ops over 8,300 keys (K quantised into a packed grid) match the reference', async () => {
    const backend = await createGpujsBackend({ mode: 'webasm' });
    try {
      const q = randomHeadTensor({ heads: 2, length: 40, dim: 4, seed: 4, scale: 1.5 });
      const k = randomHeadTensor({ heads: 1, length: 8300, dim: 4, seed: 5 });
      const input = { q, k };
      for (const options of [
        { bits: 8 as const, rows: { start: 30, count: 10 } },
        { bits: 4 as const, pool: { blockQ: 16, blockK: 64 } },
      ]) {
        const want = referenceQuantizedScores(input, options) as ScoreRows | BlockScores;
        const got = (await backend.quantizedScores(input, options)) as ScoreRows | BlockScores;
        expect(got.data.length).toBe(want.data.length);
        let top = 0;
        for (const x of want.data) if (Number.isFinite(x)) top = Math.max(top, Math.abs(x));
        let outliers = 0;
        for (let i = 0; i < want.data.length; i++) {
          const a = got.data[i]!;
          const e = want.data[i]!;
          if (!Number.isFinite(e)) expect(a).toBe(e);
          else if (Math.abs(a - e) > 1e-4 * top + 1e-6) outliers++;
        }
        expect(outliers).toBeLessThanOrEqual(0.002 * want.data.length);
      }
      const want = referenceLastQueriesAttention(input, { count: 3 });
      const got = await backend.lastQueriesAttention(input, { count: 3 });
      let worst = 0;
      for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i]! - want.data[i]!));
      expect(worst).toBeLessThan(2e-6);
    } finally {
      await backend.dispose();
    }
  });
});
