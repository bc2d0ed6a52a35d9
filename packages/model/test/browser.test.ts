// The runtime in a real browser: bundled for the browser (no Node built-ins), weights fetched by URL.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runInChromium } from '@sparseland/browser-runner';
import { modelFiles } from '@sparseland/fixtures';
import { expect, it } from 'vitest';

it('loads stories260K over fetch in Chromium and generates the reference tokens', async () => {
  const files = modelFiles('stories260K');
  const golden = JSON.parse(readFileSync(files.golden, 'utf8')) as { greedy_ids: number[] };
  const result = (await runInChromium({
    entry: fileURLToPath(new URL('./browser/stories-page.ts', import.meta.url)),
    assets: { 'stories260K.bin': files.checkpoint, 'tok512.bin': files.tokenizer },
  })) as { ids: number[]; text: string; dimFromBuffer: number; encoded: number[]; relativeVocab: number; fileUrlError: string };
  expect(result.ids).toEqual(golden.greedy_ids.slice(0, 24));
  expect(result.text.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true);
  expect(result.dimFromBuffer).toBe(64);
  expect(result.encoded).toEqual([1, 403, 407, 261, 378]);
  expect(result.relativeVocab).toBe(512);
  expect(result.fileUrlError).toMatch(/is a file: URL, which needs Node's file system/);
}, 120_000);
