// The embedded models and texts, served as static files beside the app (content-hashed names in the build, so a
// browser may cache them for good; the engine also keeps them in Cache Storage). Nothing is fetched from elsewhere.
import storiesCheckpoint from '@sparseland/fixtures/models/stories260K/stories260K.bin?url';
import storiesTokenizer from '@sparseland/fixtures/models/stories260K/tok512.bin?url';
import tinybooksCheckpoint from '@sparseland/fixtures/models/tinybooks-2k/tinybooks-2k.bin?url';
import tinybooksTokenizer from '@sparseland/fixtures/models/tinybooks-2k/tok256.bin?url';
import prideAndPrejudice from '@sparseland/fixtures/text/pride-and-prejudice.txt?url';
import tinyShakespeare from '@sparseland/fixtures/text/tinyshakespeare.txt?url';
import type { EmbeddedModel, TextPreset } from './state/app-state.js';

const absolute = (url: string) => new URL(url, document.baseURI).href;

export function embeddedModelUrls(name: EmbeddedModel): { checkpoint: string; tokenizer: string } {
  return name === 'tinybooks-2k'
    ? { checkpoint: absolute(tinybooksCheckpoint), tokenizer: absolute(tinybooksTokenizer) }
    : { checkpoint: absolute(storiesCheckpoint), tokenizer: absolute(storiesTokenizer) };
}

export function presetTextUrl(name: TextPreset): string {
  return absolute(name === 'pride-and-prejudice' ? prideAndPrejudice : tinyShakespeare);
}
