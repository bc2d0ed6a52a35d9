import { SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';
import { createModel, type LlamaModel, loadCheckpoint, loadTokenizer, type Tokenizer } from '@sparseland/model';

/** The two real models embedded in `@sparseland/fixtures`. */
export type FixtureModelName = 'tinybooks-2k' | 'stories260K';
/** The two public-domain texts embedded in `@sparseland/fixtures`. */
export type FixtureTextName = 'pride-and-prejudice' | 'tinyshakespeare';

export const FIXTURE_MODELS: readonly FixtureModelName[] = ['tinybooks-2k', 'stories260K'];
export const FIXTURE_TEXTS: readonly FixtureTextName[] = ['pride-and-prejudice', 'tinyshakespeare'];

/** A model with its tokenizer, ready to run. */
export interface LoadedModel {
  readonly name: string;
  readonly model: LlamaModel;
  readonly tokenizer: Tokenizer;
  /** Prepend BOS to passages (SentencePiece vocabularies such as stories260K's; byte-level tinybooks-2k has none). */
  readonly bos: boolean;
}

/** Where each fixture model is at home: trace length and text (see fixtures/models/FORMATS.md and the NOTICE files). */
export const FIXTURE_DEFAULTS: Readonly<
  Record<
    FixtureModelName,
    { readonly positions: number; readonly text: FixtureTextName; readonly heldOut: { text: FixtureTextName; offset: number } }
  >
> = {
  // Trained on Pride and Prejudice + tiny-shakespeare; the last 5% of that concatenation (tiny-shakespeare from
  // character 1,024,740 on) was held out, so end-to-end NLL is measured there.
  'tinybooks-2k': { positions: 2048, text: 'pride-and-prejudice', heldOut: { text: 'tinyshakespeare', offset: 1_024_740 } },
  // A TinyStories model: both books are out of distribution (never trained on), and positions past 512 extrapolate.
  stories260K: { positions: 512, text: 'pride-and-prejudice', heldOut: { text: 'pride-and-prejudice', offset: 0 } },
};

const loaded = new Map<string, Promise<LoadedModel>>();

/** Loads an embedded model and its tokenizer once per process (Node: the files are read from the fixtures package). */
export function loadFixtureModel(name: FixtureModelName): Promise<LoadedModel> {
  if (!FIXTURE_MODELS.includes(name)) {
    throw new SparselandError(
      'E_PARAMS',
      `model must be one of ${FIXTURE_MODELS.join(', ')} (or a LoadedModel), got ${describeValue(name)}`,
    );
  }
  let promise = loaded.get(name);
  if (!promise) {
    promise = (async () => {
      const { modelFiles } = await import('@sparseland/fixtures');
      const files = modelFiles(name);
      const model = createModel(await loadCheckpoint(files.checkpoint));
      const tokenizer = await loadTokenizer(files.tokenizer, files.vocabSize);
      return { name, model, tokenizer, bos: tokenizer.kind === 'sentencepiece' };
    })();
    loaded.set(name, promise);
    promise.catch(() => loaded.delete(name));
  }
  return promise;
}

/** The text of an embedded book (Node only). */
export async function readFixtureText(name: FixtureTextName): Promise<string> {
  if (!FIXTURE_TEXTS.includes(name)) {
    throw new SparselandError(
      'E_PARAMS',
      `text must be one of ${FIXTURE_TEXTS.join(', ')} (or {name, content}), got ${describeValue(name)}`,
    );
  }
  const { textFile } = await import('@sparseland/fixtures');
  // A computed specifier keeps browser bundlers away from the Node module.
  const fs = (await import(/* @vite-ignore */ ['node:fs', 'promises'].join('/'))) as {
    readFile(path: string, encoding: 'utf8'): Promise<string>;
  };
  return fs.readFile(textFile(name), 'utf8');
}

/**
 * The first `count` tokens of `text` from character `offset` (BOS first when the model uses one). SentencePiece
 * models see "\n" line ends; byte-level models read the text as stored (Pride and Prejudice has CRLF, as in training).
 */
export function passageTokens(model: LoadedModel, text: string, offset: number, count: number): number[] {
  if (!Number.isInteger(offset) || offset < 0 || offset >= text.length) {
    throw new SparselandError('E_PARAMS', `offset must be an integer in [0, ${text.length}), got ${describeValue(offset)}`);
  }
  // Encode a slice (BPE over a whole book is slow), doubling it until it holds enough tokens.
  let chars = count * 2 + 16;
  for (;;) {
    let slice = text.slice(offset, offset + chars);
    if (model.bos) slice = slice.replace(/\r\n/g, '\n');
    const ids = model.tokenizer.encode(slice, { bos: model.bos });
    // The last token may be cut by the slice end, so keep one spare.
    if (ids.length > count) return ids.slice(0, count);
    if (offset + chars >= text.length) {
      if (ids.length === count) return ids;
      throw new SparselandError(
        'E_PARAMS',
        `the text has only ${ids.length} tokens from offset ${offset}, but ${count} positions were asked for; use a smaller offset or fewer positions`,
        { available: ids.length, offset, positions: count },
      );
    }
    chars *= 2;
  }
}
