import { createRng } from '@sparseland/core/kit';
import { type LayerWeights, type LlamaWeights, type ModelConfig, parseCheckpoint, writeCheckpoint } from '../../src/index.js';

export interface SyntheticShape {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly vocabSize: number;
  readonly seqLen: number;
  readonly sharedClassifier?: boolean;
}

/**
 * Seeded random weights of a tiny Llama, scaled so activations stay O(1) and attention is neither flat nor one-hot.
 * Returned as parsed from its own serialisation (so tests also exercise the writer and the parser).
 */
export function syntheticWeights(shape: SyntheticShape, seed: number, version: 0 | 1 = 0): LlamaWeights {
  const rng = createRng(seed);
  const headDim = shape.dim / shape.heads;
  const config: ModelConfig = { ...shape, headDim, sharedClassifier: shape.sharedClassifier ?? true, version };
  const kvDim = shape.kvHeads * headDim;
  const randn = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => rng.normal() * scale);
  const gain = (n: number): Float32Array => Float32Array.from({ length: n }, () => 1 + 0.2 * rng.normal());
  const s = 1 / Math.sqrt(shape.dim);
  const layers: LayerWeights[] = Array.from({ length: shape.layers }, () => ({
    rmsAtt: gain(shape.dim),
    wq: randn(shape.dim * shape.dim, 2 * s),
    wk: randn(kvDim * shape.dim, 2 * s),
    wv: randn(kvDim * shape.dim, s),
    wo: randn(shape.dim * shape.dim, s),
    rmsFfn: gain(shape.dim),
    w1: randn(shape.hiddenDim * shape.dim, s),
    w2: randn(shape.dim * shape.hiddenDim, 1 / Math.sqrt(shape.hiddenDim)),
    w3: randn(shape.hiddenDim * shape.dim, s),
  }));
  const tokenEmbedding = randn(shape.vocabSize * shape.dim, 1);
  const weights: LlamaWeights = {
    config,
    tokenEmbedding,
    layers,
    rmsFinal: gain(shape.dim),
    classifier: config.sharedClassifier ? tokenEmbedding : randn(shape.vocabSize * shape.dim, s),
  };
  return parseCheckpoint(writeCheckpoint(weights, { version }));
}

/** Seeded random token ids. */
export function randomTokens(count: number, vocabSize: number, seed: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => rng.int(vocabSize));
}
