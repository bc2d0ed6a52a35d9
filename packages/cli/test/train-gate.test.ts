import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeGateWeights } from '@sparseland/estimator-gate';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('sparseland train-gate', () => {
  it('trains a small gate on real traces and writes HDF5 weights, a loss curve and a summary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sparseland-gate-'));
    const out = join(dir, 'gate.h5');
    const run = runCli(
      [
        'train-gate',
        '--positions',
        '256',
        '--windows',
        '2',
        '--validation',
        '1',
        '--epochs',
        '3',
        '--hidden',
        '8',
        '--batch',
        '2',
        '--out',
        out,
        '--json',
      ],
      { timeoutMs: 300_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    // tinybooks-2k has 4 layers: 2 training windows and 1 held-out window give 8 and 4 samples.
    expect(summary.samples).toEqual({ train: 8, validation: 4 });
    expect(summary.epochs).toBeLessThanOrEqual(3);
    expect(existsSync(summary.lossSvg)).toBe(true);
    expect(readFileSync(summary.lossSvg, 'utf8')).toMatch(/<svg[\s\S]*KL divergence/);
    const weights = await decodeGateWeights(new Uint8Array(readFileSync(out)));
    expect(weights.config).toMatchObject({ kind: 'seer-attention', layers: 4, heads: 4, kvHeads: 2, dim: 64, hidden: 8, blockSize: 64 });
    expect(weights.meta['texts']).toBe('pride-and-prejudice,tinyshakespeare');
  }, 300_000);

  it('exits 2 on a bad kind or a held-out text', () => {
    expect(runCli(['train-gate', '--kind', 'seer', '--out', 'x.h5']).stderr).toMatch(
      /--kind must be one of seer-attention, sparsifiner, dma/,
    );
    const held = runCli(['train-gate', '--texts', 'sqlite3-header', '--out', 'x.h5']);
    expect(held.code).toBe(2);
    expect(held.stderr).toMatch(/unknown text "sqlite3-header"/);
  });
});
