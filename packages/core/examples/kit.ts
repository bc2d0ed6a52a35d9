// The README's example for plugin and backend authors: `pnpm --filter @sparseland/core exec tsx --conditions=@sparseland/source examples/kit.ts`.
import { attention, createRegistry, defineEstimator, randomHeadTensor } from '@sparseland/core';
import { buildBlockMask, type Estimator, intParam, referencePooledScores, resolvePooledScoresCall } from '@sparseland/core/kit';
import { z } from 'zod';

export async function kitExample(log: (line: string) => void = console.log): Promise<void> {
  // An estimator: pooled Q·Kᵀ per block from whatever backend it is given, then per (head, query block) the
  // diagonal key block and the `topK` best-scoring earlier ones, as a BlockMask built row by row.
  const topBlocks = defineEstimator({
    name: 'top-blocks',
    summary: 'Keeps the diagonal key block and the topK best-scoring earlier key blocks.',
    paper: { title: 'MoBA: Mixture of Block Attention for Long-Context LLMs', year: 2025, url: 'https://arxiv.org/abs/2502.13189' },
    params: z.object({ topK: intParam(0, 3, 'earlier key blocks kept per query block') }).strict(),
    build:
      ({ topK }): Estimator =>
      async (input, ctx) => {
        const { shape } = input;
        const scores = await ctx.backend.pooledScores(input, { blockQ: ctx.blockQ, blockK: ctx.blockK });
        ctx.cost.add(2 * shape.heads * scores.qBlocks * scores.kBlocks * shape.dim, 'estimate');
        return {
          blocks: buildBlockMask(shape, ctx, {}, (h, qb, full) => {
            const lastKey = Math.min(shape.kvLength - 1, shape.qOffset + Math.min(shape.qLength, (qb + 1) * ctx.blockQ) - 1);
            const diagonal = Math.floor(lastKey / ctx.blockK);
            const row = scores.data.subarray(
              (h * scores.qBlocks + qb) * scores.kBlocks,
              (h * scores.qBlocks + qb) * scores.kBlocks + diagonal,
            );
            const best = Array.from(row.keys()).sort((a, b) => (row[b] as number) - (row[a] as number) || a - b);
            full.pushAll([...best.slice(0, topK), diagonal].sort((a, b) => a - b));
          }),
        };
      },
  });

  const q = randomHeadTensor({ heads: 4, length: 1024, dim: 64, seed: 1 });
  const k = randomHeadTensor({ heads: 2, length: 1024, dim: 64, seed: 2 });
  const v = randomHeadTensor({ heads: 2, length: 1024, dim: 64, seed: 3 });
  const registry = createRegistry({ plugins: [topBlocks] });
  const { stats } = await attention({ q, k, v }, { recipe: { method: 'top-blocks' }, registry });
  log(`top-blocks: density ${stats.density.toFixed(4)}, ${stats.flops.estimate} estimation FLOPs, ${stats.flops.attend} attention FLOPs`);

  // For backend authors: one resolver per op validates a call exactly as the reference backend does, and the
  // float64 reference op is the oracle a backend's kernel is compared with.
  const call = resolvePooledScoresCall({ q, k }, { blockQ: 64, blockK: 64, qPool: 'mean', kPool: 'max' });
  const oracle = referencePooledScores({ q, k }, { blockQ: 64, blockK: 64, qPool: 'mean', kPool: 'max' });
  log(`pooledScores: ${call.qBlocks}×${call.kBlocks} blocks per head, ${oracle.data.length} scores, causal ${call.causal}`);
  try {
    resolvePooledScoresCall({ q, k }, { blockQ: 0, blockK: 64 });
  } catch (error) {
    log((error as Error).message);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await kitExample();
