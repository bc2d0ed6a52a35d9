import { SparselandError } from '@sparseland/core';

/** The hyper-parameters of a llama2.c checkpoint, as its header states them (plus what follows from them). */
export interface ModelConfig {
  /** Width of the residual stream. */
  readonly dim: number;
  /** Width of the SwiGLU feed-forward layer. */
  readonly hiddenDim: number;
  readonly layers: number;
  /** Query heads. */
  readonly heads: number;
  /** Key/value heads (grouped-query attention: query head h reads kv head floor(h / (heads / kvHeads))). */
  readonly kvHeads: number;
  readonly vocabSize: number;
  /** The context length the model was trained for; later positions are RoPE extrapolation. */
  readonly seqLen: number;
  /** dim / heads. */
  readonly headDim: number;
  /** True when the classifier is the token embedding table (tied weights). */
  readonly sharedClassifier: boolean;
  /** 0: llama2.c's legacy header; 1: the "ak42" header of export.py --version 1. */
  readonly version: 0 | 1;
}

/** RMSNorm epsilon of llama2.c models. */
export const RMS_NORM_EPS = 1e-5;
/** RoPE base of llama2.c models. */
export const ROPE_THETA = 10_000;

/**
 * Upper bounds on header values, checked before anything is sized from them. They are far above any model a
 * JavaScript runtime can hold, and low enough that every size computed from them is an exact double.
 */
export const HEADER_LIMITS = Object.freeze({
  dim: 1 << 16,
  hiddenDim: 1 << 18,
  layers: 1 << 10,
  vocabSize: 1 << 22,
  seqLen: 1 << 24,
});

/** The seven int32 header fields, as read (vocabSize already made positive). */
export interface HeaderFields {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly vocabSize: number;
  readonly seqLen: number;
}

/**
 * Checks the header fields are a coherent Llama configuration and returns the config. Throws E_MODEL_FORMAT naming
 * the first field that is out of range, so a foreign file fails here, before any size is computed from it.
 */
export function checkHeader(fields: HeaderFields, sharedClassifier: boolean, version: 0 | 1): ModelConfig {
  const where = version === 0 ? 'legacy (v0) header' : 'v1 header';
  const bad = (message: string): never => {
    throw new SparselandError('E_MODEL_FORMAT', `not a llama2.c checkpoint, or a corrupt one: the ${where} has ${message}`, {
      header: { ...fields },
    });
  };
  const inRange = (name: keyof HeaderFields, min: number, max: number): void => {
    const value = fields[name];
    if (!Number.isInteger(value) || value < min || value > max) bad(`${name} = ${value}, expected an integer in [${min}, ${max}]`);
  };
  inRange('dim', 1, HEADER_LIMITS.dim);
  inRange('hiddenDim', 1, HEADER_LIMITS.hiddenDim);
  inRange('layers', 1, HEADER_LIMITS.layers);
  inRange('heads', 1, fields.dim);
  inRange('kvHeads', 1, fields.heads);
  inRange('vocabSize', 1, HEADER_LIMITS.vocabSize);
  inRange('seqLen', 1, HEADER_LIMITS.seqLen);
  if (fields.dim % fields.heads !== 0) bad(`dim = ${fields.dim}, which is not a multiple of heads = ${fields.heads}`);
  if (fields.heads % fields.kvHeads !== 0) bad(`heads = ${fields.heads}, which is not a multiple of kvHeads = ${fields.kvHeads}`);
  const headDim = fields.dim / fields.heads;
  if (headDim % 2 !== 0) bad(`an odd head dim (${fields.dim} / ${fields.heads} = ${headDim}); RoPE rotates pairs of channels`);
  return Object.freeze({ ...fields, headDim, sharedClassifier, version });
}
