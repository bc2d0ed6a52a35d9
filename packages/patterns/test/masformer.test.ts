import { attention, compileRecipe, createRegistry, isSparselandError, randomHeadTensor, referenceAttention } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { alibi, masformerRecipe, patterns, slidingWindow } from '../src/index.js';

const registry = createRegistry({ plugins: patterns });
const input = {
  q: randomHeadTensor({ heads: 4, length: 45, dim: 8, seed: 11 }),
  k: randomHeadTensor({ heads: 2, length: 45, dim: 8, seed: 12 }),
  v: randomHeadTensor({ heads: 2, length: 45, dim: 8, seed: 13 }),
};

function maxDiff(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

describe('MASFormer mix through compileRecipe + attention()', () => {
  it('runs full attention in the chosen layers and the local pattern elsewhere', async () => {
    const recipe = masformerRecipe({
      layers: 4,
      fullLayers: [0, 2],
      local: { method: 'sliding-window', params: { window: 6 } },
      blockQ: 16,
      blockK: 16,
    });
    const compiled = compileRecipe(recipe, registry);
    const shape = { heads: 4, qLength: 45, kvLength: 45, qOffset: 0 };
    const local = slidingWindow.build(slidingWindow.parseParams({ window: 6 })).maskMod?.(shape);
    const dense = referenceAttention(input).output.data;
    const windowed = referenceAttention(input, { mask: local }).output.data;
    for (let layer = 0; layer < 4; layer++) {
      const result = await attention(input, { recipe: compiled, layer });
      const full = layer === 0 || layer === 2;
      expect(maxDiff(result.output.data, full ? dense : windowed), `layer ${layer}`).toBeLessThan(1e-6);
      if (full) expect(result.stats.density, `layer ${layer}`).toBe(1);
      else expect(result.stats.density, `layer ${layer}`).toBeLessThan(0.3);
    }
  });

  it('defaults to full attention in the bottom ⌈L/8⌉ layers and a 1024-key window elsewhere', () => {
    const recipe = masformerRecipe({ layers: 24 });
    expect(Object.keys(recipe.layers ?? {})).toEqual(['0', '1', '2']);
    expect(recipe.default).toEqual({ method: 'sliding-window', params: { window: 1024 } });
  });

  it('rejects layer indices out of range', () => {
    expect(() => masformerRecipe({ layers: 4, fullLayers: [4] })).toThrow(/fullLayers must hold layer indices in \[0, 4\)/);
    try {
      masformerRecipe({ layers: 0 });
    } catch (error) {
      expect(isSparselandError(error, 'E_PARAMS')).toBe(true);
    }
  });

  it('a score pattern intersected with a mask pattern adds its bias to the masked call', async () => {
    const result = await attention(input, {
      recipe: { intersect: [{ method: 'sliding-window', params: { window: 9 } }, { method: 'alibi' }] },
      registry,
    });
    const shape = { heads: 4, qLength: 45, kvLength: 45, qOffset: 0 };
    const expected = referenceAttention(input, {
      mask: slidingWindow.build(slidingWindow.parseParams({ window: 9 })).maskMod?.(shape),
      scoreMod: alibi.build(alibi.parseParams({})).scoreMod?.(shape),
    });
    expect(maxDiff(result.output.data, expected.output.data)).toBeLessThan(1e-6);
  });
});
