// Checkpoints
export type { HeaderFields, ModelConfig } from './checkpoint/config.js';
export { HEADER_LIMITS, RMS_NORM_EPS, ROPE_THETA } from './checkpoint/config.js';
export { loadCheckpoint } from './checkpoint/load-checkpoint.js';
export { MAX_MODEL_FILE_BYTES } from './format/load-bytes.js';
export type { ParseCheckpointOptions } from './checkpoint/parse-checkpoint.js';
export { CHECKPOINT_MAGIC, expectCheckpointHead, parseCheckpoint } from './checkpoint/parse-checkpoint.js';
export type { LayerWeights, LlamaWeights } from './checkpoint/weights.js';
export { writeCheckpoint } from './checkpoint/write-checkpoint.js';
export type { BinaryInput } from './format/bytes.js';
// Runtime
export { LayerKvCache } from '@sparseland/core/kit';
export type { GenerateOptions, LlamaModel } from './runtime/model.js';
export { BOS_ID, createModel } from './runtime/model.js';
export { RotaryTable } from './runtime/rope.js';
export { argmax, sampleWithTemperature } from './runtime/sampling.js';
export type { AttentionEvent, InferenceSession, LayerCapture, PrefillOptions, SessionOptions } from './runtime/session.js';
// Tokenizers
export { loadTokenizer, MAX_TOKENIZER_FILE_BYTES } from './tokenizer/load-tokenizer.js';
export { MAX_TOKEN_LENGTH_LIMIT, parseTokenizer } from './tokenizer/parse-tokenizer.js';
export type { EncodeOptions, Tokenizer, TokenizerKind } from './tokenizer/tokenizer.js';
export { LlamaTokenizer } from './tokenizer/tokenizer.js';
// Traces
export type { CaptureOptions, LayerTrace, ModelTrace } from './trace/capture-traces.js';
export { captureTraces } from './trace/capture-traces.js';
export type { AttentionMapOptions } from './trace/dense-attention-map.js';
export { denseAttentionMap } from './trace/dense-attention-map.js';
