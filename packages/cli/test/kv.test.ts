import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('sparseland generate', () => {
  it('generates under a KV policy and reports the bytes the cache holds against the full cache', () => {
    const run = runCli([
      'generate',
      'Once upon a time',
      '--model',
      'stories',
      '--max-tokens',
      '12',
      '--kv',
      'streaming-llm',
      '--kv-budget',
      '8',
      '--kv-params',
      '{"sink": 2}',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      tokens: number[];
      text: string;
      bytes: number;
      fullBytes: number;
      kv: string;
      promptTokens: number;
    };
    expect(report.tokens.length).toBe(12);
    expect(report.kv).toBe('streaming-llm 8 tokens');
    // 8 slots per kv head against promptTokens + 11 written.
    expect(report.bytes / report.fullBytes).toBeCloseTo(8 / (report.promptTokens + 11), 10);
    const streamed = runCli(['generate', 'Once upon a time', '--model', 'stories', '--max-tokens', '6']);
    expect(streamed.code).toBe(0);
    expect(streamed.stderr).toMatch(/full cache: 6 tokens after a \d+-token prompt; cache [\d.]+ MiB of [\d.]+ MiB full \(100\.0%\)/);
  });

  it('names unknown KV policies with the closest one, exiting 2', () => {
    const run = runCli(['generate', 'hi', '--model', 'stories', '--kv', 'streaming-lm']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown KV policy "streaming-lm"\. Did you mean "streaming-llm"\?/);
    const budget = runCli(['generate', 'hi', '--model', 'stories', '--kv', 'h2o', '--kv-budget', '1.5']);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(/--kv-budget/);
  });
});

describe('sparseland eval --kv', () => {
  it('compares KV policies at budgets with the full cache and writes the report and plots', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparseland-kv-'));
    const run = runCli(
      [
        'eval',
        '--kv',
        'streaming-llm,kivi',
        '--kv-budget',
        '0.25',
        '--workload',
        'stories',
        '--positions',
        '96',
        '--continuation',
        '6',
        '--greedy',
        '6',
        '--out',
        dir,
        '--json',
      ],
      { timeoutMs: 300_000 },
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { summary: { method: string; bytesRatio: number }[]; texts: unknown[] };
    expect(report.texts.length).toBe(3);
    expect(report.summary.map((s) => s.method)).toEqual(['streaming-llm 25%', 'kivi']);
    expect(report.summary[0]!.bytesRatio).toBeCloseTo(0.25, 1);
    for (const file of ['report.json', 'report.txt', 'kv-recall-vs-memory.svg', 'kv-nll-vs-memory.svg', 'kv-greedy-vs-memory.svg']) {
      expect(existsSync(join(dir, file))).toBe(true);
    }
    expect(readFileSync(join(dir, 'kv-recall-vs-memory.svg'), 'utf8')).toMatch(/^<svg/);
  });
});

describe('sparseland kv-heads', () => {
  it('splits kv heads on pass-key prompts and writes a recipe that generate loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparseland-duo-'));
    const file = join(dir, 'duo.json');
    const run = runCli([
      'kv-heads',
      '--model',
      'stories',
      '--prompts',
      '1',
      '--sink',
      '4',
      '--recent',
      '32',
      '--streaming',
      '0.25',
      '--out',
      file,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const { scores, streamingHeads } = JSON.parse(run.stdout) as { scores: number[][]; streamingHeads: number[][] };
    expect(scores.length).toBe(5);
    expect(streamingHeads.flat().length).toBe(5); // a quarter of 5 layers × 4 kv heads
    const recipe = JSON.parse(readFileSync(file, 'utf8'));
    expect(recipe.kv).toEqual({ method: 'full-cache' });
    const gen = runCli(['generate', 'Once upon a time', '--model', 'stories', '--max-tokens', '4', '--recipe', file, '--json']);
    expect(gen.code).toBe(0);
    expect(JSON.parse(gen.stdout).tokens.length).toBe(4);
  });
});
