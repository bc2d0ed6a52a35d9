import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_LIMITS, parseInteger, parseSeed } from '../src/cli-values.js';
import { checkOutputFile, prepareOutputDir, writeFilesAtomically } from '../src/output-files.js';
import { checkWorkloadSpec } from '../src/workload-spec.js';
import { runCli } from './run-cli.js';

// Bad values exit 2 with a coded message before any work starts; results are written all or nothing; a closed pipe
// or a full disk never prints a stack trace.

const dir = mkdtempSync(join(tmpdir(), 'sparseland-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('values on the command line', () => {
  it('parses integers strictly within their stated limits, with the flag, the range and a short echo of what came', () => {
    expect(parseInteger('12', '--rows', 1, CLI_LIMITS.rows)).toBe(12);
    expect(() => parseInteger('abc', '--offset', 0, CLI_LIMITS.offset)).toThrow(
      /^\[E_USAGE\] --offset must be an integer in \[0, 2147483647\], got "abc"$/,
    );
    for (const bad of ['0', '1.5', '-1', '1e3', '', ' ', '0x10', '99999999999999999999']) {
      expect(() => parseInteger(bad, '--greedy', 1, CLI_LIMITS.greedy), bad).toThrow(/E_USAGE.*--greedy must be an integer in \[1, 4096\]/);
    }
    expect(() => parseInteger('x'.repeat(1 << 20), '--rows', 1, 10)).toThrow(/^.{0,200}$/);
  });

  it("checks seeds with core's expectSeed: 0 to 2^32 − 1, no wrapping", () => {
    expect(parseSeed('0')).toBe(0);
    expect(parseSeed(String(2 ** 32 - 1))).toBe(2 ** 32 - 1);
    expect(() => parseSeed(String(2 ** 32))).toThrow(/E_PARAMS.*--seed must be an integer in \[0, 4294967295\], got 4294967296/);
    expect(() => parseSeed('1.5')).toThrow(/E_USAGE.*--seed/);
    expect(() => parseSeed('NaN')).toThrow(/E_USAGE.*--seed/);
  });

  it('checks workload names: empty, unknown with the closest name, extra parts, lengths past the limit', () => {
    expect(() => checkWorkloadSpec('')).toThrow(/E_USAGE.*--workload is empty/);
    expect(() => checkWorkloadSpec('tinybook')).toThrow(/unknown workload "tinybook"; did you mean "tinybooks"\?/);
    expect(() => checkWorkloadSpec('synthetic:4k:extra')).toThrow(/synthetic takes one length, as synthetic:<n>/);
    expect(() => checkWorkloadSpec('mqar:999999999')).toThrow(/mqar:<n>: expected a length .* from 16 to 131072/);
    expect(() => checkWorkloadSpec('synthetic:256k')).toThrow(/from 16 to 131072/);
    expect(() => checkWorkloadSpec(`synthetic:${'9'.repeat(1 << 20)}`)).toThrow(/^.{0,300}$/);
    for (const good of ['tinybooks', 'stories260K', 'synthetic:4k', 'mqar:128k', 'synthetic:16']) checkWorkloadSpec(good);
  });
});

describe('sparseland exits 2 before any work on bad values', () => {
  // Each of these would otherwise trace a model or generate an input first: the run must end in seconds.
  const cases: [string, string[], RegExp][] = [
    ['empty workload', ['eval', '--workload', ''], /\[E_USAGE\] --workload is empty/],
    ['workload typo', ['eval', '--workload', 'tinybook'], /did you mean "tinybooks"/],
    ['workload with extra parts', ['eval', '--workload', 'synthetic:4k:extra'], /synthetic takes one length/],
    ['a huge mqar length', ['eval', '--workload', 'mqar:999999999'], /mqar:<n>: expected a length .* from 16 to 131072/],
    ['a huge synthetic length', ['eval', '--workload', 'synthetic:2000000'], /from 16 to 131072/],
    ['--greedy 0', ['eval', '--greedy', '0'], /\[E_USAGE\] --greedy must be an integer in \[1, 4096\], got "0"/],
    [
      '--greedy past the positions',
      ['eval', '--positions', '64', '--greedy', '63'],
      /--greedy \(with --positions 64\) must be an integer in \[1, 62\]/,
    ],
    ['--offset abc (eval)', ['eval', '--offset', 'abc'], /--offset must be an integer in \[0, 2147483647\], got "abc"/],
    ['--offset abc (search)', ['search', '--offset', 'abc'], /--offset must be an integer in \[0, 2147483647\], got "abc"/],
    ['--blocks past the limit', ['search', '--blocks', '99999999999x1'], /--blocks must look like 64x64 .* got "99999999999x1"/],
    [
      'a seed past 2^32 - 1',
      ['eval', '--workload', 'synthetic:1k', '--seed', '4294967296'],
      /\[E_PARAMS\] --seed must be an integer in \[0, 4294967295\]/,
    ],
    ['a fractional seed (search)', ['search', '--seed', '1.5'], /--seed must be an integer/],
    [
      'mask --heads 5000',
      ['mask', 'sliding-window', '--n', '4096', '--heads', '5000'],
      /--heads must be an integer in \[1, 1024\], got "5000"/,
    ],
    ['mask --n past the limit', ['mask', 'sliding-window', '--n', '1000000'], /--n: expected a length .* from 16 to 131072/],
    ['eval --kv --greedy 0', ['eval', '--kv', 'streaming-llm', '--greedy', '0'], /--greedy must be an integer in \[1, 4096\], got "0"/],
    ['generate --seed 1.5', ['generate', '--seed', '1.5'], /\[E_USAGE\] --seed must be an integer in \[0, 4294967295\], got "1.5"/],
    ['kv-heads --seed past 2^32 - 1', ['kv-heads', '--seed', '4294967296'], /\[E_PARAMS\] --seed must be an integer/],
    ['--rows past the limit', ['eval', '--rows', '999999999'], /--rows must be an integer in \[1, 131072\]/],
  ];
  it.each(cases)('%s', (_name, args, message) => {
    const run = runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('cuts a 1 MB method name short', () => {
    const run = runCli(['mask', 'x'.repeat(100_000)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/E_UNKNOWN_PLUGIN/);
    expect(run.stderr.length).toBeLessThan(2000);
  });
});

describe('output files', () => {
  it('checks destinations before the work: a missing folder, a folder given as a file, a file given as a folder', () => {
    expect(() => checkOutputFile(join(dir, 'missing', 'x.svg'), '--svg')).toThrow(/E_USAGE.*--svg .*the folder .* does not exist/);
    expect(() => checkOutputFile(dir, '--png')).toThrow(/--png .* is a folder/);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect(() => prepareOutputDir(file, '--out')).toThrow(/--out .* is a file/);
    expect(() => prepareOutputDir(join(file, 'below'), '--out')).toThrow(/cannot create the folder \(ENOTDIR/);
    prepareOutputDir(join(dir, 'new', 'nested'), '--out');
    expect(existsSync(join(dir, 'new', 'nested'))).toBe(true);
    checkOutputFile(join(dir, 'fine.svg'), '--svg');
  });

  it('writes every file or none, and leaves no temporary file behind', () => {
    const out = join(dir, 'atomic');
    prepareOutputDir(out, '--out');
    writeFileSync(join(out, 'report.json'), 'old');
    const files = [
      { path: join(out, 'report.json'), data: 'new' },
      { path: join(out, 'missing', 'report.txt'), data: 'text' },
    ];
    expect(() => writeFilesAtomically(files)).toThrow(/\[E_OUTPUT\] could not write .*report\.txt.*ENOENT.*nothing was written/);
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('old');
    expect(readdirSync(out)).toEqual(['report.json']);
    writeFilesAtomically([files[0] as (typeof files)[0], { path: join(out, 'report.txt'), data: 'text' }]);
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('new');
    expect(readdirSync(out).sort()).toEqual(['report.json', 'report.txt']);
  });

  it('eval --out and mask --svg / --png refuse a bad destination before any work', () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, 'x');
    const evalRun = runCli(['eval', '--workload', 'tinybooks', '--out', file]);
    expect(evalRun.code).toBe(2);
    expect(evalRun.stderr).toMatch(/\[E_USAGE\] --out .* is a file; give a folder/);
    expect(evalRun.stderr).not.toMatch(/preparing workload/);
    const maskRun = runCli(['mask', 'sliding-window', '--svg', join(dir, 'nope', 'm.svg')]);
    expect(maskRun.code).toBe(2);
    expect(maskRun.stderr).toMatch(/--svg .* the folder .* does not exist/);
  });
});

describe('stdout that goes away', () => {
  const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const command = `"${process.execPath}" --conditions=@sparseland/source --import tsx "${bin}" list --json`;
  const shell = (line: string) => spawnSync('bash', ['-c', line], { cwd, encoding: 'utf8', timeout: 120_000 });

  it('ends quietly when the reader closes the pipe (| head -c 10)', () => {
    const run = shell(`${command} | head -c 10; echo " exit=\${PIPESTATUS[0]}"`);
    expect(run.stdout).toMatch(/^\{\n {2}"plugi exit=0\n$/);
    expect(run.stderr).toBe('');
  });

  it.skipIf(!existsSync('/dev/full'))('says why on a full disk (> /dev/full) and exits 1, without a stack trace', () => {
    const run = shell(`${command} > /dev/full`);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('sparseland: [E_OUTPUT] could not write to stdout: ENOSPC (no space left on device)\n');
  });
});
