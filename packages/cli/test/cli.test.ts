import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sparseland-cli-'));

describe('sparseland list', () => {
  it('lists installed plugins with summaries and papers, as a table or JSON', () => {
    const table = runCli(['list', '--kind', 'pattern']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/sliding-window\s+Local band.*window \(higher = denser\)/);
    expect(table.stdout).toMatch(/\bcausal\s+.*\bnone\b/);
    expect(table.stdout).toMatch(/arxiv\.org/);
    const json = runCli(['list', '--json']);
    expect(json.code).toBe(0);
    const { plugins } = JSON.parse(json.stdout) as { plugins: { kind: string; name: string; paper?: { year: number } }[] };
    expect(plugins.find((p) => p.name === 'a-shape')?.paper?.year).toBe(2024);
    expect(plugins.some((p) => p.kind === 'backend' && p.name === 'cpu')).toBe(true);
    expect(plugins.some((p) => p.kind === 'backend' && p.name === 'reference')).toBe(true);
  });

  it('exits 2 on a bad --kind and on an unknown command', () => {
    const bad = runCli(['list', '--kind', 'patterns']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kind must be one of pattern, estimator, backend, kv-policy, got "patterns"/);
    const unknown = runCli(['lst']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'lst'[\s\S]*list/);
  });
});

describe('sparseland mask', () => {
  it('prints the exact density and a picture, and writes SVG and PNG files', () => {
    const json = runCli(['mask', 'sliding-window', '--params', '{"window": 16}', '--n', '64', '--json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    // Row i keeps min(i + 1, 16) keys: 136 + 48·16 = 904 of 64·65/2 = 2080 causal pairs.
    expect(result.keptPairs).toBe(904);
    expect(result.causalPairs).toBe(2080);
    expect(result.params).toEqual({ window: 16, causal: true });
    const text = runCli(['mask', 'a-shape', '--params', '{"sink": 2, "local": 8}', '--n', '40']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/a-shape \{"sink":2,"local":8\} on n = 40: density 0\.\d{4}/);
    expect(text.stdout.split('\n').length).toBeGreaterThan(10);
    const dir = tmp();
    const files = runCli(['mask', 'strided', '--n', '128', '--svg', join(dir, 'm.svg'), '--png', join(dir, 'm.png')]);
    expect(files.code).toBe(0);
    expect(readFileSync(join(dir, 'm.svg'), 'utf8')).toMatch(/^<svg/);
    expect([...readFileSync(join(dir, 'm.png')).subarray(0, 4)]).toEqual([0x89, 0x50, 0x4e, 0x47]);
  });

  it('suggests the closest method for a typo and names the bad parameter, exiting 2', () => {
    const typo = runCli(['mask', 'sliding-windw']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown method "sliding-windw"\. Did you mean "sliding-window"\?/);
    const bad = runCli(['mask', 'sliding-window', '--params', '{"window": 0}']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/E_PARAMS.*window/);
    const json = runCli(['mask', 'sliding-window', '--params', '{window: 3}']);
    expect(json.code).toBe(2);
    expect(json.stderr).toMatch(/--params must be JSON/);
  });
});

describe('sparseland eval', () => {
  it('evaluates methods at a matched density on a synthetic input and prints JSON', () => {
    const run = runCli(['eval', '--workload', 'synthetic:1k', '--methods', 'sliding-window,a-shape', '--backend', 'reference', '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.eval.backend.name).toBe('reference');
    expect(report.eval.workloads[0].name).toBe('synthetic:1k');
    const [window, ashape] = report.eval.results;
    expect(window.method).toMatch(/^sliding-window window=\d+$/);
    expect(Math.abs(window.summary.density - 0.25)).toBeLessThan(0.01);
    expect(Math.abs(ashape.summary.density - 0.25)).toBeLessThan(0.01);
    // The needles sit beyond the band: a local window misses them.
    expect(window.summary.needles).toBe(32);
    expect(window.summary.needleHitRate).toBeLessThan(0.5);
    expect(report.endToEnd).toBeUndefined();
  });

  it('builds every method with --blocks, matches the declared budget knobs, and runs a method without one as given', () => {
    const run = runCli([
      'eval',
      '--workload',
      'synthetic:512',
      '--methods',
      'block-topk,strided',
      '--blocks',
      '16x16',
      '--density',
      '0.2',
      '--backend',
      'reference',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.eval.methods[0]).toEqual({
      label: expect.stringMatching(/^block-topk topK=\d+$/),
      recipe: { blockQ: 16, blockK: 16, default: { method: 'block-topk', params: { topK: expect.any(Number) } } },
    });
    expect(report.eval.methods[1]).toEqual({
      label: 'strided',
      recipe: { blockQ: 16, blockK: 16, default: { method: 'strided', params: {} } },
    });
    expect(run.stderr).toMatch(/strided has no budget parameter to match --density with: it runs with its own parameters/);
    const bad = runCli(['eval', '--workload', 'synthetic:512', '--blocks', '0x16']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--blocks must look like 64x64 \(query × key block, each 1 to 4096\), got "0x16"/);
  });

  it('runs a real model end to end and writes the report files', () => {
    const dir = tmp();
    const run = runCli(['eval', '--workload', 'stories', '--positions', '128', '--methods', 'dense,sliding-window', '--out', dir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/stories260K:pride-and-prejudice@0\+128/);
    expect(run.stdout).toMatch(/end to end: stories260K/);
    expect(run.stdout).toMatch(/sliding-window window=\d+/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.endToEnd[0].results[0].nextTokenAgreement).toBeGreaterThan(0);
    expect(readFileSync(join(dir, 'report.txt'), 'utf8')).toMatch(/ΔNLL mean/);
  });

  it('sweeps a method and plots density vs recall and speed vs length', () => {
    const dir = tmp();
    const run = runCli([
      'eval',
      '--workload',
      'synthetic:512',
      '--methods',
      'sliding-window',
      '--sweep',
      '--lengths',
      '128,256',
      '--backend',
      'reference',
      '--out',
      dir,
    ]);
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.sweeps[0].param).toBe('window');
    expect(report.eval.results.length).toBeGreaterThanOrEqual(4);
    expect(report.speed).toHaveLength(2);
    expect(readFileSync(join(dir, 'density-recall-synthetic_512.svg'), 'utf8')).toMatch(/Density vs recall: synthetic:512/);
    expect(existsSync(join(dir, 'speed-vs-length.svg'))).toBe(true);
  });

  it('exits 2 with a helpful message for unknown workloads, methods and backends', () => {
    const workload = runCli(['eval', '--workload', 'tinybook']);
    expect(workload.code).toBe(2);
    expect(workload.stderr).toMatch(/unknown workload "tinybook"; did you mean "tinybooks"\?; expected tinybooks \| stories/);
    const method = runCli(['eval', '--workload', 'synthetic:1k', '--methods', 'a-shap']);
    expect(method.code).toBe(2);
    expect(method.stderr).toMatch(/Did you mean "a-shape"/);
    const backend = runCli(['eval', '--workload', 'synthetic:1k', '--backend', 'gpu']);
    expect(backend.code).toBe(2);
    expect(backend.stderr).toMatch(/unknown backend "gpu".*cpu/);
    const density = runCli(['eval', '--density', '1.5']);
    expect(density.code).toBe(2);
    expect(density.stderr).toMatch(/--density must be a number in \(0, 1\]/);
  });
});

describe('sparseland bench', () => {
  it('validates its size', () => {
    const run = runCli(['bench', '--size', 'huge']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--size must be smoke or full/);
  });
});

describe('sparseland search', () => {
  it('calibrates candidates per head under the budget, prints the choices and writes a recipe eval-able by attention()', async () => {
    const dir = tmp();
    const file = join(dir, 'recipe.json');
    const run = runCli([
      'search',
      '--workload',
      'synthetic:512',
      '--budget',
      '0.3',
      '--methods',
      'block-topk,vertical-slash',
      '--blocks',
      '16x16',
      '--rows',
      '64',
      '--out',
      file,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/layer\s+head\s+method\s+density\s+recall/);
    expect(run.stdout).toMatch(/mean over heads on the calibration traces: density 0\.\d+, recall 0\.\d+/);
    const recipe = JSON.parse(readFileSync(file, 'utf8'));
    expect(recipe.blockQ).toBe(16);
    const { compileRecipe, createRegistry } = await import('@sparseland/core');
    const { estimators } = await import('@sparseland/estimators');
    expect(compileRecipe(recipe, createRegistry({ plugins: [estimators] })).kind).toBe('compiled-recipe');
    const json = runCli([
      'search',
      '--workload',
      'synthetic:512',
      '--budget',
      '0.5',
      '--candidates',
      '[{"method":"block-topk","params":{"topK":2}},{"method":"dense"}]',
      '--blocks',
      '32x32',
      '--rows',
      '32',
      '--json',
    ]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.heads).toHaveLength(8);
    expect(report.summary.density).toBeLessThanOrEqual(0.5);
  });

  it('exits 2 on a bad budget, block spec, objective or method', () => {
    expect(runCli(['search', '--budget', '2']).stderr).toMatch(/--budget must be a fraction/);
    expect(runCli(['search', '--blocks', '64']).stderr).toMatch(/--blocks must look like 64x64/);
    expect(runCli(['search', '--objective', 'speed']).stderr).toMatch(/--objective must be recall or output-error/);
    const method = runCli(['search', '--workload', 'synthetic:512', '--methods', 'block-topkk']);
    expect(method.code).toBe(2);
    expect(method.stderr).toMatch(/Did you mean "block-topk"/);
  });
});
