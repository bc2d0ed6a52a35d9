import { BlockState, createRegistry, type MaskShape } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { patterns, powerAttention, radial, s2Attention } from '../src/index.js';

// Structural claims of the papers, checked on the masks themselves.
describe('paper claims', () => {
  it('S2-attention: the union over heads covers every causal block (heterogeneous context sharding)', () => {
    for (const [heads, vertStride] of [
      [8, 8],
      [4, 4],
      [16, 8],
    ] as const) {
      const shape: MaskShape = { heads, qLength: 2048, kvLength: 2048, qOffset: 0 };
      const instance = s2Attention.build(s2Attention.parseParams({ blockSize: 64, localBlocks: 2, vertStride }));
      const blocks = instance.mask?.(shape, { blockQ: 64, blockK: 64 }).blocks;
      if (!blocks) throw new Error('no blocks');
      for (let qb = 0; qb < blocks.qBlocks; qb++) {
        for (let kb = 0; kb <= qb; kb++) {
          let covered = false;
          for (let h = 0; h < heads && !covered; h++) covered = blocks.blockState(h, qb, kb) !== BlockState.empty;
          expect(covered, `block (${qb}, ${kb})`).toBe(true);
        }
      }
      // ...while each head alone keeps only about 1 / vertStride of the far blocks.
      expect(blocks.density({ causal: true }) * heads).toBeLessThan(heads / vertStride + 0.25 * heads);
    }
  });

  it('PowerAttention: d layers reach every block up to 2^d − 1 back, with no gap (complete and continuous)', () => {
    const blocks = 300;
    const instance = powerAttention.build(powerAttention.parseParams({ blockSize: 1 }));
    const mod = instance.maskMod?.({ heads: 1, qLength: blocks, kvLength: blocks, qOffset: 0 }) as (
      h: number,
      q: number,
      k: number,
    ) => boolean;
    const q = blocks - 1;
    // reach[k] after d layers: some path q → … → k of d hops along kept pairs.
    let reach = new Uint8Array(blocks);
    reach[q] = 1;
    for (let d = 1; d <= 8; d++) {
      const next = new Uint8Array(blocks);
      for (let a = 0; a < blocks; a++) if (reach[a]) for (let k = 0; k <= a; k++) if (mod(0, a, k)) next[k] = 1;
      reach = next;
      for (let dist = 0; dist < 2 ** d; dist++) expect(reach[q - dist], `distance ${dist} after ${d} layers`).toBe(1);
    }
  });

  it('Radial: kept pairs grow like n log n, not n²', () => {
    const count = (frames: number) => {
      const f = 64;
      const n = frames * f;
      const mod = radial.build(radial.parseParams({ tokensPerFrame: f, minWindow: 8 })).maskMod?.({
        heads: 1,
        qLength: n,
        kvLength: n,
        qOffset: 0,
      }) as (h: number, q: number, k: number) => boolean;
      let total = 0;
      for (let q = 0; q < n; q += 7) for (let k = 0; k < n; k++) if (mod(0, q, k)) total++;
      return total * 7;
    };
    const small = count(16);
    const large = count(64);
    // 4× the frames: dense would be 16× the pairs; n log n gives ~4 · log(64·64)/log(16·64) = 4.8×.
    expect(large / small).toBeLessThan(8);
  });

  it('every pattern name is unique and registers', () => {
    const registry = createRegistry({ plugins: patterns });
    expect(registry.list('pattern').map((p) => p.name)).toEqual(patterns.map((p) => p.name));
    for (const p of patterns) expect(p.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});
