import { loadBytes } from '../format/load-bytes.js';
import { expectCheckpointHead, type ParseCheckpointOptions, parseCheckpoint } from './parse-checkpoint.js';
import type { LlamaWeights } from './weights.js';

/**
 * Reads and parses a checkpoint: a file path in Node, or a URL (fetched) anywhere. The header is checked against the
 * file's size before the weights are read, so a wrong or hostile file is refused after 256 bytes (files over
 * MAX_MODEL_FILE_BYTES and non-regular files such as devices are refused before any read).
 */
export async function loadCheckpoint(pathOrUrl: string | URL, options: ParseCheckpointOptions = {}): Promise<LlamaWeights> {
  const bytes = await loadBytes(pathOrUrl, 'loadCheckpoint()', {
    headBytes: 256,
    checkHead: (head, size) => expectCheckpointHead(head, size),
  });
  return parseCheckpoint(bytes, options);
}
