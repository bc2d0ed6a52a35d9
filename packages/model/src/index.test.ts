import { expect, it } from 'vitest';
import * as model from './index.js';

// Changing the public surface should be a deliberate act: update this list with the changeset.
it('exposes the public api', () => {
  expect(Object.keys(model).sort()).toMatchInlineSnapshot(`
    [
      "BOS_ID",
      "CHECKPOINT_MAGIC",
      "HEADER_LIMITS",
      "LayerKvCache",
      "LlamaTokenizer",
      "MAX_MODEL_FILE_BYTES",
      "MAX_TOKENIZER_FILE_BYTES",
      "MAX_TOKEN_LENGTH_LIMIT",
      "RMS_NORM_EPS",
      "ROPE_THETA",
      "RotaryTable",
      "argmax",
      "captureTraces",
      "createModel",
      "denseAttentionMap",
      "expectCheckpointHead",
      "loadCheckpoint",
      "loadTokenizer",
      "parseCheckpoint",
      "parseTokenizer",
      "sampleWithTemperature",
      "writeCheckpoint",
    ]
  `);
});
