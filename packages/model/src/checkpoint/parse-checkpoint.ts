import { SparselandError } from '@sparseland/core';
import { aligned, asBytes, type BinaryInput, dataView, float32At, formatCount } from '../format/bytes.js';
import { checkHeader, type HeaderFields, type ModelConfig } from './config.js';
import { expectedFileBytes, headerBytes, type TensorName, tensorRuns } from './layout.js';
import type { LayerWeights, LlamaWeights } from './weights.js';

/** The magic of v1+ checkpoints: the uint32 0x616b3432 ("ak42"), little-endian. */
export const CHECKPOINT_MAGIC = 0x616b3432;

export interface ParseCheckpointOptions {
  /** Scan every weight for NaN and ±Infinity (default true; a few milliseconds per 10 MB). */
  readonly checkFinite?: boolean;
}

/**
 * Parses a llama2.c checkpoint: the legacy v0 header (7 int32, negative vocab_size = unshared classifier) or the v1
 * "ak42" header (magic, version 1, 7 int32, a shared-classifier byte, zero padding to 256 bytes). The header is
 * checked for sane values before any size is computed from it, and the file must have exactly the size the
 * header implies. Every failure is `E_MODEL_FORMAT` saying what was expected and what came.
 */
export function parseCheckpoint(input: BinaryInput, options: ParseCheckpointOptions = {}): LlamaWeights {
  const bytes = aligned(asBytes(input, 'parseCheckpoint()'));
  const config = readHeader(bytes);
  const expected = expectedFileBytes(config);
  if (bytes.byteLength !== expected) throw sizeMismatch(bytes.byteLength, expected, config);

  const tensors = new Map<TensorName, Float32Array[]>();
  let offset = headerBytes(config.version);
  for (const run of tensorRuns(config)) {
    const copies = run.perLayer ? config.layers : 1;
    const list: Float32Array[] = [];
    for (let l = 0; l < copies; l++) {
      list.push(float32At(bytes, offset, run.floats));
      offset += run.floats * 4;
    }
    tensors.set(run.name, list);
  }
  const one = (name: TensorName): Float32Array => tensors.get(name)?.[0] as Float32Array;
  const perLayer = (name: TensorName, l: number): Float32Array => tensors.get(name)?.[l] as Float32Array;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.layers; l++) {
    layers.push(
      Object.freeze({
        rmsAtt: perLayer('rmsAtt', l),
        wq: perLayer('wq', l),
        wk: perLayer('wk', l),
        wv: perLayer('wv', l),
        wo: perLayer('wo', l),
        rmsFfn: perLayer('rmsFfn', l),
        w1: perLayer('w1', l),
        w2: perLayer('w2', l),
        w3: perLayer('w3', l),
      }),
    );
  }
  const tokenEmbedding = one('tokenEmbedding');
  const weights: LlamaWeights = Object.freeze({
    config,
    tokenEmbedding,
    layers: Object.freeze(layers),
    rmsFinal: one('rmsFinal'),
    classifier: config.sharedClassifier ? tokenEmbedding : one('classifier'),
    freqCisReal: tensors.get('freqCisReal')?.[0],
    freqCisImag: tensors.get('freqCisImag')?.[0],
  });
  if (options.checkFinite !== false) expectFiniteWeights(tensors);
  return weights;
}

/**
 * Checks a checkpoint's header against the file's size before the weights are read (`loadCheckpoint` reads the
 * first 256 bytes, calls this, and only then reads the rest). Throws the same E_MODEL_FORMAT errors as
 * `parseCheckpoint`.
 */
export function expectCheckpointHead(head: Uint8Array, fileBytes: number): ModelConfig {
  const config = readHeader(head, fileBytes);
  const expected = expectedFileBytes(config);
  if (fileBytes !== expected) throw sizeMismatch(fileBytes, expected, config);
  return config;
}

function readHeader(bytes: Uint8Array, fileBytes = bytes.byteLength): ModelConfig {
  const view = dataView(bytes);
  if (bytes.byteLength >= 4 && view.getUint32(0, true) === CHECKPOINT_MAGIC) {
    if (bytes.byteLength < 256) {
      throw new SparselandError(
        'E_MODEL_FORMAT',
        `checkpoint has ${formatCount(fileBytes)} bytes, but its "ak42" magic announces a 256-byte v1+ header`,
      );
    }
    const version = view.getInt32(4, true);
    if (version !== 1) {
      const what = version === 2 ? ' (version 2 is the int8 Q8_0 export, which this loader does not read)' : '';
      throw new SparselandError(
        'E_MODEL_FORMAT',
        `checkpoint has the "ak42" magic with version ${version}${what}; supported: the legacy v0 header and version 1`,
        { version },
      );
    }
    const fields = readFields(view, 8);
    const flag = view.getUint8(36);
    if (flag > 1) {
      throw new SparselandError('E_MODEL_FORMAT', `v1 checkpoint has shared-classifier flag ${flag} at byte 36, expected 0 or 1`);
    }
    return checkHeader(fields, flag === 1, 1);
  }
  if (bytes.byteLength < 28) {
    throw new SparselandError(
      'E_MODEL_FORMAT',
      `checkpoint has ${formatCount(fileBytes)} bytes, fewer than the 28 bytes of a llama2.c header (7 int32)`,
    );
  }
  const raw = readFields(view, 0);
  // v0 marks an unshared classifier with a negative vocab_size.
  const shared = raw.vocabSize > 0;
  return checkHeader({ ...raw, vocabSize: Math.abs(raw.vocabSize) }, shared, 0);
}

function readFields(view: DataView, at: number): HeaderFields {
  const int = (i: number): number => view.getInt32(at + 4 * i, true);
  return { dim: int(0), hiddenDim: int(1), layers: int(2), heads: int(3), kvHeads: int(4), vocabSize: int(5), seqLen: int(6) };
}

function sizeMismatch(got: number, expected: number, config: ModelConfig): SparselandError {
  const c = config;
  const header =
    `a v${c.version} header for dim ${c.dim}, hidden ${c.hiddenDim}, ${c.layers} layers, ${c.heads} heads, ${c.kvHeads} kv heads, ` +
    `vocab ${c.vocabSize}${c.sharedClassifier ? ' (shared classifier)' : ' (own classifier)'}, seq_len ${c.seqLen}`;
  let hint = got < expected ? ' The file is truncated or the header is corrupt.' : ' The file has trailing bytes or the header is corrupt.';
  const classifierBytes = 4 * c.vocabSize * c.dim;
  if (c.version === 0 && got === expected + (c.sharedClassifier ? classifierBytes : -classifierBytes)) {
    hint = ' The size fits the other sign of vocab_size (shared vs own classifier): the header sign is probably wrong.';
  }
  return new SparselandError(
    'E_MODEL_FORMAT',
    `checkpoint has ${formatCount(got)} bytes; ${header} needs exactly ${formatCount(expected)}.${hint}`,
    { got, expected, config: { ...config } },
  );
}

function expectFiniteWeights(tensors: Map<TensorName, Float32Array[]>): void {
  for (const [name, list] of tensors) {
    list.forEach((t, layer) => {
      for (let i = 0; i < t.length; i++) {
        const x = t[i] as number;
        if (x - x !== 0) {
          const where = list.length > 1 ? `${name} of layer ${layer}` : name;
          throw new SparselandError('E_MODEL_FORMAT', `checkpoint is corrupt: ${where} holds ${x} at index ${formatCount(i)}`, {
            tensor: name,
            layer,
            index: i,
          });
        }
      }
    });
  }
}
