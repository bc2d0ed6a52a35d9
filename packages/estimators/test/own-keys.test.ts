import { attention, createRegistry, randomHeadTensor } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { estimators } from '../src/index.js';

// Every row keeps its own key. With blockQ > blockK a query block spans several key blocks on the diagonal, and
// keeping only the last row's one (or none, for a plain top-k) left the block's first rows with no key at all:
// zeros and lse = -Infinity, a silently wrong answer.
const registry = createRegistry({ plugins: estimators });
const n = 1024;
const input = {
  q: randomHeadTensor({ heads: 4, length: n, dim: 16, seed: 11 }),
  k: randomHeadTensor({ heads: 2, length: n, dim: 16, seed: 12 }),
  v: randomHeadTensor({ heads: 2, length: n, dim: 16, seed: 13 }),
};

async function emptyRows(method: string, params: Record<string, unknown>, blockQ: number, blockK: number): Promise<number> {
  const result = await attention(input, { registry, recipe: { default: { method, params }, blockQ, blockK } });
  return Array.from(result.lse).filter((x) => x === -Infinity).length;
}

describe('no row without its own key', () => {
  for (const [method, params] of [
    ['block-topk', { topK: 2 }],
    ['block-topk', { topK: 1 }],
    ['block-topk', { mode: 'topk', global: true, topK: 2 }],
    ['block-sparse', { topK: 1 }],
    ['block-sparse', { topK: 2 }],
  ] as const) {
    it(`${method} ${JSON.stringify(params)} with 64×16 blocks on N = ${n}`, async () => {
      expect(await emptyRows(method, params, 64, 16)).toBe(0);
      expect(await emptyRows(method, params, 16, 64)).toBe(0);
    });
  }
});
