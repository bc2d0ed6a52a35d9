// Runs in headless Chromium (see ../browser.test.ts): loads the model over fetch, as a web page would.
import { createModel, loadCheckpoint, loadTokenizer, parseCheckpoint } from '../../src/index.js';

export async function run(): Promise<unknown> {
  const checkpointUrl = new URL('./stories260K.bin', location.href).href;
  const weights = await loadCheckpoint(checkpointUrl);
  const tokenizer = await loadTokenizer(new URL('./tok512.bin', location.href), weights.config.vocabSize);
  const ids = await createModel(weights).generate([1], { maxTokens: 24, stopAtBos: true });
  // parse from an ArrayBuffer too (what a File input or a cache gives).
  const buffer = await (await fetch(checkpointUrl)).arrayBuffer();
  // A relative path is a URL of the page in a browser.
  const relative = await loadTokenizer('tok512.bin', weights.config.vocabSize);
  let fileUrlError = '';
  try {
    await loadCheckpoint('file:///stories260K.bin');
  } catch (error) {
    fileUrlError = String((error as Error).message);
  }
  return {
    ids,
    text: tokenizer.decode(ids),
    dimFromBuffer: parseCheckpoint(buffer).config.dim,
    encoded: tokenizer.encode('Once upon a time', { bos: true }),
    relativeVocab: relative.vocabSize,
    fileUrlError,
  };
}
