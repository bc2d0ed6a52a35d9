import { loadBytes } from '../format/load-bytes.js';
import { type ParseCheckpointOptions, parseCheckpoint } from './parse-checkpoint.js';
import type { LlamaWeights } from './weights.js';

/** Reads and parses a checkpoint: a file path in Node, or a URL (fetched) anywhere. */
export async function loadCheckpoint(pathOrUrl: string | URL, options: ParseCheckpointOptions = {}): Promise<LlamaWeights> {
  return parseCheckpoint(await loadBytes(pathOrUrl, 'loadCheckpoint()'), options);
}
