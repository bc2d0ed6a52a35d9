import type { ModelConfig } from './config.js';

/** Names of the tensors of a llama2.c checkpoint, in the words of this package's `LlamaWeights`. */
export type TensorName =
  | 'tokenEmbedding'
  | 'rmsAtt'
  | 'wq'
  | 'wk'
  | 'wv'
  | 'wo'
  | 'rmsFfn'
  | 'w1'
  | 'w2'
  | 'w3'
  | 'rmsFinal'
  | 'freqCisReal'
  | 'freqCisImag'
  | 'classifier';

/** One run of floats in the file: a tensor for the whole model, or the same tensor for every layer one after another. */
export interface TensorRun {
  readonly name: TensorName;
  /** Floats per layer for per-layer tensors, else the tensor's size. */
  readonly floats: number;
  readonly perLayer: boolean;
}

/** Bytes of the header before the first float. */
export function headerBytes(version: 0 | 1): number {
  return version === 0 ? 28 : 256;
}

/**
 * The order in which llama2.c's export.py writes the tensors. v0 (legacy_export): embedding, then each per-layer
 * tensor for all layers, the final norm, two RoPE tables, and the classifier when it is not shared. v1
 * (version1_export): the norms first, then the embedding and the matrices, no RoPE tables.
 */
export function tensorRuns(config: ModelConfig): TensorRun[] {
  const { dim, hiddenDim, vocabSize, seqLen, headDim, kvHeads } = config;
  const kvDim = kvHeads * headDim;
  const run = (name: TensorName, floats: number, perLayer = false): TensorRun => ({ name, floats, perLayer });
  const matrices = [run('wq', dim * dim, true), run('wk', kvDim * dim, true), run('wv', kvDim * dim, true), run('wo', dim * dim, true)];
  const ffn = [run('w1', hiddenDim * dim, true), run('w2', dim * hiddenDim, true), run('w3', hiddenDim * dim, true)];
  const classifier = config.sharedClassifier ? [] : [run('classifier', vocabSize * dim)];
  if (config.version === 0) {
    return [
      run('tokenEmbedding', vocabSize * dim),
      run('rmsAtt', dim, true),
      ...matrices,
      run('rmsFfn', dim, true),
      ...ffn,
      run('rmsFinal', dim),
      run('freqCisReal', (seqLen * headDim) / 2),
      run('freqCisImag', (seqLen * headDim) / 2),
      ...classifier,
    ];
  }
  return [
    run('rmsAtt', dim, true),
    run('rmsFfn', dim, true),
    run('rmsFinal', dim),
    run('tokenEmbedding', vocabSize * dim),
    ...matrices,
    ...ffn,
    ...classifier,
  ];
}

/** Total floats after the header. Exact: HEADER_LIMITS keep every product below 2^53. */
export function totalFloats(config: ModelConfig): number {
  return tensorRuns(config).reduce((sum, r) => sum + r.floats * (r.perLayer ? config.layers : 1), 0);
}

/** The exact file size a config implies. */
export function expectedFileBytes(config: ModelConfig): number {
  return headerBytes(config.version) + 4 * totalFloats(config);
}
