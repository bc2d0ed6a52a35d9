// --model, --tokenizer and --text: the user's llama2.c checkpoint and text, checked like the embedded ones.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelFiles, textFile } from '@sparseland/fixtures';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.js';
import { runCli } from './run-cli.js';

// The embedded stories260K files, passed as if they were the user's own: results must equal `--workload stories`.
const stories = modelFiles('stories260K');
const tinybooks = modelFiles('tinybooks-2k');
const book = textFile('pride-and-prejudice');
const own = ['--model', stories.checkpoint, '--tokenizer', stories.tokenizer];

/** Runs the command line in this process (argument and file errors happen before any work): exit code and stderr. */
async function usage(args: readonly string[]): Promise<{ code: number; err: string }> {
  const lines: string[] = [];
  const code = await main(['node', 'sparseland', ...args], { out: () => {}, err: (text) => lines.push(text) });
  return { code, err: lines.join('\n') };
}

const dir = mkdtempSync(join(tmpdir(), 'sparseland-own-'));
const file = (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('--model, --tokenizer and --text', () => {
  it('eval on your own checkpoint and text gives what the embedded model gives, and runs it end to end', () => {
    const common = ['--positions', '96', '--methods', 'dense,sliding-window', '--backend', 'reference', '--json'];
    const embedded = runCli(['eval', '--workload', 'stories', '--no-end-to-end', ...common]);
    const yours = runCli(['eval', ...own, '--text', book, ...common]);
    expect(embedded.code).toBe(0);
    expect(yours.code).toBe(0);
    const a = JSON.parse(embedded.stdout);
    const b = JSON.parse(yours.stdout);
    expect(b.eval.workloads[0].name).toBe('stories260K.bin:pride-and-prejudice.txt@0+96');
    const measured = (report: { eval: { results: { method: string; summary: { density: number; recallMean: number } }[] } }) =>
      report.eval.results.map((r) => [r.method, r.summary.density, r.summary.recallMean]);
    expect(measured(b)).toEqual(measured(a));
    // End to end on the user's text from --offset (0): the model and text are named in the report.
    expect(b.endToEnd[0]).toMatchObject({ model: 'stories260K.bin', text: 'pride-and-prejudice.txt', offset: 0 });
    expect(b.endToEnd[0].results[0].nextTokenAgreement).toBeGreaterThan(0);
  });

  it('search calibrates on your model, and mask draws one layer of it', () => {
    const search = runCli([
      'search',
      ...own,
      '--positions',
      '64',
      '--budget',
      '0.5',
      '--candidates',
      '[{"method":"block-topk","params":{"topK":1}},{"method":"dense"}]',
      '--blocks',
      '16x16',
      '--backend',
      'reference',
      '--json',
    ]);
    expect(search.code).toBe(0);
    // stories260K: 5 layers × 8 query heads.
    expect(JSON.parse(search.stdout).heads).toHaveLength(40);
    const mask = runCli([
      'mask',
      'block-topk',
      ...own,
      '--text',
      book,
      '--n',
      '64',
      '--layer',
      '2',
      '--head',
      '7',
      '--backend',
      'reference',
      '--json',
    ]);
    expect(mask.code).toBe(0);
    const result = JSON.parse(mask.stdout);
    expect(result).toMatchObject({
      heads: 8,
      head: 7,
      n: 64,
      input: { model: 'stories260K.bin', text: 'pride-and-prejudice.txt', layer: 2 },
    });
    expect(result.density).toBeGreaterThan(0);
    const text = runCli(['mask', 'sliding-window', ...own, '--n', '32', '--backend', 'reference']);
    expect(text.stdout).toMatch(/^sliding-window \{.*\} on stories260K\.bin layer 0 over 32 tokens of pride-and-prejudice: density/);
  });

  it('a missing or unreadable file, a wrong format, or a flag without its partner is a usage error (exit 2) naming the flag', async () => {
    const cases: [readonly string[], RegExp][] = [
      [['eval', '--model', join(dir, 'nope.bin'), '--tokenizer', stories.tokenizer], /--model .*nope\.bin: no such file/],
      [['eval', '--model', dir, '--tokenizer', stories.tokenizer], /--model .*: not a file/],
      [
        ['eval', '--model', book, '--tokenizer', stories.tokenizer],
        /--model .*pride-and-prejudice\.txt: expected a llama2\.c checkpoint: not a llama2\.c checkpoint/,
      ],
      [
        ['search', '--model', stories.checkpoint, '--tokenizer', tinybooks.tokenizer],
        /--tokenizer .*tok256\.bin: expected a llama2\.c tokenizer for 512 tokens: tokenizer file: .*truncated, or made for a smaller vocabulary/,
      ],
      [['mask', 'a-shape', '--model', stories.checkpoint], /--model needs --tokenizer <file>/],
      [['eval', '--tokenizer', stories.tokenizer], /--tokenizer goes with --model/],
      [['eval', '--text', join(dir, 'missing.txt')], /--text .*missing\.txt: no such file/],
      [['eval', '--text', file('empty.txt', '')], /--text .*empty\.txt: the file is empty/],
      [['eval', '--text', file('latin1.txt', new Uint8Array([0x63, 0x61, 0x66, 0xe9]))], /--text .*latin1\.txt: expected UTF-8 text/],
      [['eval', '--text', stories.checkpoint], /--text .*stories260K\.bin: expected (UTF-8 text|text, got NUL bytes)/],
      [
        ['eval', '--workload', 'synthetic:1k', '--text', book],
        /--text is the passage a real model reads; the workload synthetic:1k makes its own input/,
      ],
      [['mask', 'a-shape', '--text', book], /--text is the passage a model reads: add --model/],
      [['mask', 'a-shape', '--layer', '1'], /--layer picks a layer of --model/],
      [['mask', 'a-shape', ...own, '--layer', '5', '--backend', 'reference'], /--layer must be below the model's 5 layers, got 5/],
      [['eval', '--workload', 'stories', ...own], /option '--workload <list>' cannot be used with option '--model <checkpoint>'/],
      [['mask', 'a-shape', '--heads', '2', ...own], /option '--heads <count>' cannot be used with option '--model <checkpoint>'/],
    ];
    for (const [args, message] of cases) {
      const run = await usage(args);
      expect(run.err, args.join(' ')).toMatch(message);
      expect(run.code, args.join(' ')).toBe(2);
    }
  });

  it('a text shorter than the positions asked for is a usage error too', async () => {
    const short = file('short.txt', 'Once upon a time.');
    const run = await usage(['eval', ...own, '--text', short, '--positions', '64', '--backend', 'reference', '--no-end-to-end']);
    expect(run.err).toMatch(/E_PARAMS.*the text has only \d+ tokens from offset 0, but 64 positions were asked for/);
    expect(run.code).toBe(2);
  });
});
