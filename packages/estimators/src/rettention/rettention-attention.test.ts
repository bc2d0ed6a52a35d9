import { plantedInputs } from '@sparseland/conformance';
import { createRegistry, outputError, randomHeadTensor, referenceAttention, type SparseMask, sparseMaskToDense } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { blockTopk } from '../estimators/block-topk.js';
import { rettentionAttention } from './rettention-attention.js';

const registry = createRegistry({ plugins: [blockTopk] });
const input = plantedInputs({ qHeads: 4, kvHeads: 2, qLength: 200, kvLength: 200, dim: 32 }, 3);
const recipe = { blockQ: 16, blockK: 16, default: { method: 'block-topk', params: { topK: 3 } } };

describe('rettentionAttention', () => {
  it('with the residual, probe rows (the last row of each query block) come out equal to dense attention', async () => {
    const dense = referenceAttention(input);
    const result = await rettentionAttention(input, { recipe, registry, residual: true });
    expect(result.probeRows).toEqual(Array.from({ length: 13 }, (_, b) => Math.min(200, (b + 1) * 16) - 1));
    for (let h = 0; h < 4; h++) {
      for (const i of result.probeRows) {
        for (let c = 0; c < 32; c++) {
          expect(result.output.data[(h * 200 + i) * 32 + c]).toBeCloseTo(dense.output.data[(h * 200 + i) * 32 + c] as number, 5);
        }
        expect(result.lse[h * 200 + i]).toBeCloseTo(dense.lse[h * 200 + i] as number, 4);
      }
    }
  });

  it('rescales each row by the kept mass of its block (r·O_sparse, lse log(S + D)) and counts the probe as estimation', async () => {
    const result = await rettentionAttention(input, { recipe, registry });
    const sparse = referenceAttention(input, { mask: result.mask });
    const kept = sparseMaskToDense(result.mask as SparseMask, resolveAttentionShape(input), { causal: true });
    // Float64 sums of exp(logit − 30) over the kept and the dropped visible keys of row i.
    const sums = (h: number, i: number) => {
      let keptSum = 0;
      let droppedSum = 0;
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let c = 0; c < 32; c++)
          dot += (input.q.data[(h * 200 + i) * 32 + c] as number) * (input.k.data[((h >> 1) * 200 + j) * 32 + c] as number);
        const e = Math.exp(dot / Math.sqrt(32) - 30);
        if (kept[(h * 200 + i) * 200 + j]) keptSum += e;
        else droppedSum += e;
      }
      return { keptSum, droppedSum };
    };
    let changed = 0;
    for (let h = 0; h < 4; h++) {
      for (let b = 0; b < 13; b++) {
        // The probe row's dropped mass D is shared by the block's rows.
        const dropped = sums(h, result.probeRows[b] as number).droppedSum;
        for (let row = b * 16; row < Math.min(200, (b + 1) * 16); row++) {
          const { keptSum } = sums(h, row);
          const r = keptSum / (keptSum + dropped);
          if (r < 0.999) changed++;
          expect(result.keptMass[h * 200 + row]).toBeCloseTo(r, 6);
          expect(result.output.data[(h * 200 + row) * 32 + 5]).toBeCloseTo(r * (sparse.output.data[(h * 200 + row) * 32 + 5] as number), 5);
          expect(result.lse[h * 200 + row]).toBeCloseTo(Math.log(keptSum + dropped) + 30, 4);
        }
      }
    }
    expect(changed).toBeGreaterThan(100);
    expect(result.stats.flops.estimate).toBeGreaterThan(0);
  });

  it('leaves dense calls and masks that keep everything unchanged', async () => {
    const q = randomHeadTensor({ heads: 2, length: 30, dim: 8, seed: 1 });
    const small = { q, k: q, v: q };
    const dense = referenceAttention(small);
    const a = await rettentionAttention(small);
    expect(Array.from(a.keptMass).every((r) => r === 1)).toBe(true);
    const b = await rettentionAttention(small, {
      recipe: { blockQ: 8, blockK: 8, default: { method: 'block-topk', params: { topK: 10 } } },
      registry,
    });
    expect(outputError(b.output, dense.output)).toBeLessThan(1e-6);
    for (const r of b.keptMass) expect(r).toBeCloseTo(1, 6);
  });

  it('brings a block mask’s output closer to dense attention than the plain sparse softmax (values of zero mean)', async () => {
    // The probe's dropped mass stands for every row of its block: it helps where a block's rows drop similar mass
    // (block masks); with per-row structure (vertical-slash diagonals, planted: 0.111 vs 0.093) it can hurt.
    const dense = referenceAttention(input);
    for (const method of [
      { method: 'block-topk', params: { topK: 2 } },
      { method: 'block-topk', params: { topK: 4 } },
    ]) {
      const r = { blockQ: 16, blockK: 16, default: method };
      const corrected = await rettentionAttention(input, { recipe: r, registry });
      const plain = referenceAttention(input, { mask: corrected.mask });
      expect(outputError(corrected.output, dense.output)).toBeLessThan(outputError(plain.output, dense.output));
    }
  });
});
