import type { ModelConfig } from './config.js';

/** One transformer block's tensors, row-major, every matrix stored (out, in) so y = W·x. */
export interface LayerWeights {
  /** Attention RMSNorm gain [dim]. */
  readonly rmsAtt: Float32Array;
  /** [dim × dim] */
  readonly wq: Float32Array;
  /** [kvHeads·headDim × dim] */
  readonly wk: Float32Array;
  /** [kvHeads·headDim × dim] */
  readonly wv: Float32Array;
  /** [dim × dim] */
  readonly wo: Float32Array;
  /** Feed-forward RMSNorm gain [dim]. */
  readonly rmsFfn: Float32Array;
  /** Gate projection [hiddenDim × dim]. */
  readonly w1: Float32Array;
  /** Down projection [dim × hiddenDim]. */
  readonly w2: Float32Array;
  /** Up projection [hiddenDim × dim]. */
  readonly w3: Float32Array;
}

/**
 * A parsed checkpoint. The tensors are Float32Array views of the bytes that were parsed (no copy on little-endian
 * machines): do not write to them.
 */
export interface LlamaWeights {
  readonly config: ModelConfig;
  /** [vocabSize × dim] */
  readonly tokenEmbedding: Float32Array;
  readonly layers: readonly LayerWeights[];
  /** Final RMSNorm gain [dim]. */
  readonly rmsFinal: Float32Array;
  /** [vocabSize × dim]; the same array as tokenEmbedding when the classifier is shared. */
  readonly classifier: Float32Array;
  /** cos(pos·θ_i) [seqLen × headDim/2], stored by v0 files only. */
  readonly freqCisReal?: Float32Array | undefined;
  /** sin(pos·θ_i) [seqLen × headDim/2], stored by v0 files only. */
  readonly freqCisImag?: Float32Array | undefined;
}
