import { SparselandError } from '@sparseland/core';
import { fillRopeAngles, ropeFrequencies } from '../runtime/rope.js';
import type { ModelConfig } from './config.js';
import { expectedFileBytes, headerBytes, type TensorName, tensorRuns } from './layout.js';
import { CHECKPOINT_MAGIC } from './parse-checkpoint.js';
import type { LlamaWeights } from './weights.js';

/**
 * Serialises weights as a llama2.c checkpoint: `version: 0` (legacy header, RoPE tables included: the stored ones,
 * or computed) or `version: 1` ("ak42" header). `parseCheckpoint(writeCheckpoint(w))` gives back the same tensors.
 * Useful to convert between the two headers and to make test models.
 */
export function writeCheckpoint(weights: LlamaWeights, options: { version?: 0 | 1 } = {}): Uint8Array {
  const version = options.version ?? weights.config.version;
  if (version !== 0 && version !== 1) throw new SparselandError('E_PARAMS', `version must be 0 or 1, got ${String(version)}`);
  const config: ModelConfig = { ...weights.config, version };
  const bytes = new Uint8Array(expectedFileBytes(config));
  const view = new DataView(bytes.buffer);
  const { dim, hiddenDim, layers, heads, kvHeads, vocabSize, seqLen } = config;
  const fields = [dim, hiddenDim, layers, heads, kvHeads, vocabSize, seqLen];
  if (version === 0) {
    if (!config.sharedClassifier) fields[5] = -vocabSize;
    for (const [i, x] of fields.entries()) view.setInt32(4 * i, x, true);
  } else {
    view.setUint32(0, CHECKPOINT_MAGIC, true);
    view.setInt32(4, 1, true);
    for (const [i, x] of fields.entries()) view.setInt32(8 + 4 * i, x, true);
    view.setUint8(36, config.sharedClassifier ? 1 : 0);
  }
  const rope = version === 0 ? ropeTables(weights) : undefined;
  const source = (name: TensorName, layer: number): Float32Array => {
    const l = weights.layers[layer];
    switch (name) {
      case 'tokenEmbedding':
        return weights.tokenEmbedding;
      case 'rmsFinal':
        return weights.rmsFinal;
      case 'classifier':
        return weights.classifier;
      case 'freqCisReal':
        return rope?.cos as Float32Array;
      case 'freqCisImag':
        return rope?.sin as Float32Array;
      default:
        return (l as unknown as Record<string, Float32Array>)[name] as Float32Array;
    }
  };
  let offset = headerBytes(version);
  for (const run of tensorRuns(config)) {
    for (let l = 0; l < (run.perLayer ? layers : 1); l++) {
      const tensor = source(run.name, l);
      if (tensor.length !== run.floats) {
        throw new SparselandError('E_SHAPE', `writeCheckpoint: ${run.name} must hold ${run.floats} floats, got ${tensor.length}`);
      }
      for (let i = 0; i < tensor.length; i++) view.setFloat32(offset + 4 * i, tensor[i] as number, true);
      offset += 4 * run.floats;
    }
  }
  return bytes;
}

function ropeTables(weights: LlamaWeights): { cos: Float32Array; sin: Float32Array } {
  if (weights.freqCisReal && weights.freqCisImag) return { cos: weights.freqCisReal, sin: weights.freqCisImag };
  const { headDim, seqLen } = weights.config;
  const cos = new Float32Array((seqLen * headDim) / 2);
  const sin = new Float32Array(cos.length);
  fillRopeAngles(ropeFrequencies(headDim), 0, seqLen, cos, sin);
  return { cos, sin };
}
