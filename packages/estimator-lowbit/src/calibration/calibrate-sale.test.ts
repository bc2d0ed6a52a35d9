// SALE's threshold rule: τ halves until the head's L1 output error is under θ · q_len, and a head that cannot get
// there before the floor becomes dense (τ = 0); the recipe carries one list per layer.
import { compileRecipe, createHeadTensor, createRegistry } from '@sparseland/core';
import { createRng } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { sale } from '../estimators/sale.js';
import { calibrateSale, saleRecipe } from './calibrate-sale.js';

function item(layer: number, seed: number) {
  const rng = createRng(seed);
  const t = (h: number, n: number, d: number, s: number) => {
    const x = createHeadTensor(h, n, d);
    for (let i = 0; i < x.data.length; i++) x.data[i] = s * rng.normal();
    return x;
  };
  return { layer, q: t(2, 96, 16, 1.2), k: t(1, 96, 16, 1.2), v: t(1, 96, 16, 1) };
}

describe('calibrateSale', () => {
  it('halves τ while the error is too large, ends dense below the floor, and is monotone in θ', async () => {
    const items = [item(0, 1), item(2, 2)];
    const loose = await calibrateSale(items, { theta: 100, blockQ: 16, blockK: 16, params: { localWindow: 16 } });
    expect(loose.get(0)).toEqual([0.008, 0.008]);
    expect([...loose.keys()]).toEqual([0, 2]);
    const strict = await calibrateSale(items, { theta: 0, blockQ: 16, blockK: 16, params: { localWindow: 16 } });
    expect(strict.get(2)).toEqual([0, 0]);
    const middle = await calibrateSale(items, { theta: 0.05, blockQ: 16, blockK: 16, params: { localWindow: 16 } });
    for (const tau of middle.get(0) ?? []) {
      expect(tau).toBeLessThanOrEqual(0.008);
      expect(tau === 0 || Math.log2(0.008 / tau) % 1 === 0).toBe(true);
    }
    const recipe = saleRecipe(middle, { localWindow: 16 }, { blockQ: 16, blockK: 16 });
    expect(recipe.layers?.['2']?.default).toEqual({ method: 'sale', params: { localWindow: 16, thresholds: middle.get(2) } });
    expect(() => compileRecipe(recipe, createRegistry({ plugins: [sale] }))).not.toThrow();
    await expect(calibrateSale([])).rejects.toThrow(/non-empty/);
  });
});
