import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { isSparselandError } from '@sparseland/core';
import type { LoadedModel } from '@sparseland/eval';
import { createModel, loadCheckpoint, loadTokenizer } from '@sparseland/model';
import { UsageError } from './exit-codes.js';

/** `--model`, `--tokenizer` and `--text`: a model and a text of the user's own instead of the embedded ones. */
export interface OwnFileOptions {
  readonly model?: string;
  readonly tokenizer?: string;
  readonly text?: string;
}

/** What the flags name, loaded and checked. */
export interface OwnFiles {
  readonly model?: LoadedModel;
  readonly text?: { readonly name: string; readonly content: string };
}

/** Largest text file read whole (a book is a few MB; tokenization only reads the passage). */
export const MAX_TEXT_BYTES = 256 * 2 ** 20;

/**
 * Loads `--model <llama2.c checkpoint>` with `--tokenizer <file>` (through @sparseland/model's loaders, the checks the
 * embedded models pass) and reads `--text <file>` (UTF-8 text). A missing or unreadable file, a file in the wrong
 * format, or one flag without its partner is a UsageError naming the flag.
 */
export async function loadOwnFiles(options: OwnFileOptions): Promise<OwnFiles> {
  if (options.model !== undefined && options.tokenizer === undefined) {
    throw new UsageError('--model needs --tokenizer <file>: the llama2.c tokenizer made for that checkpoint (tokenizer.bin)');
  }
  if (options.tokenizer !== undefined && options.model === undefined) {
    throw new UsageError('--tokenizer goes with --model <llama2.c checkpoint>; the embedded models bring their own');
  }
  const text = options.text === undefined ? undefined : await readText(options.text);
  if (options.model === undefined || options.tokenizer === undefined) return text ? { text } : {};
  const weights = await fromFile('--model', options.model, 'a llama2.c checkpoint', () => loadCheckpoint(options.model as string));
  const vocabSize = weights.config.vocabSize;
  const tokenizer = await fromFile('--tokenizer', options.tokenizer, `a llama2.c tokenizer for ${vocabSize} tokens`, () =>
    loadTokenizer(options.tokenizer as string, vocabSize),
  );
  const model: LoadedModel = {
    name: basename(options.model),
    model: createModel(weights),
    tokenizer,
    bos: tokenizer.kind === 'sentencepiece',
  };
  return text ? { model, text } : { model };
}

/** Runs a loader, turning its coded errors (unreadable, wrong format) into a UsageError that names the flag. */
async function fromFile<T>(flag: string, path: string, expected: string, load: () => Promise<T>): Promise<T> {
  await expectFile(flag, path);
  try {
    return await load();
  } catch (error) {
    if (isSparselandError(error)) throw new UsageError(`${flag} ${path}: expected ${expected}: ${error.reason}`);
    throw error;
  }
}

async function expectFile(flag: string, path: string): Promise<number> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError(`${flag} ${path}: not a file`);
    size = info.size;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as { code?: string }).code;
    throw new UsageError(`${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read it (${(error as Error).message})`}`);
  }
  return size;
}

async function readText(path: string): Promise<{ name: string; content: string }> {
  const size = await expectFile('--text', path);
  if (size > MAX_TEXT_BYTES) throw new UsageError(`--text ${path}: ${size} bytes, more than the ${MAX_TEXT_BYTES} read whole`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(`--text ${path}: cannot read it (${(error as Error).message})`);
  }
  if (bytes.length === 0) throw new UsageError(`--text ${path}: the file is empty`);
  let content: string;
  try {
    content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError(`--text ${path}: expected UTF-8 text, got bytes that are not UTF-8 (a binary file?)`);
  }
  if (content.includes('\0')) throw new UsageError(`--text ${path}: expected text, got NUL bytes (a binary file?)`);
  return { name: basename(path), content };
}
