import { createReferenceBackend } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { testRegistry } from '../test/helpers.js';
import { endToEnd } from './end-to-end.js';
import { formatEndToEnd } from './results/format-report.js';

describe('endToEnd', () => {
  it('compares methods with dense attention on stories260K: dense agrees with itself, a tiny window does not', async () => {
    const report = await endToEnd({
      model: 'stories260K',
      positions: 160,
      greedyTokens: 24,
      methods: [
        { label: 'dense again', recipe: { method: 'dense' } },
        { label: 'window 2', recipe: { method: 'window', params: { window: 2 } } },
      ],
      registry: testRegistry,
      backend: createReferenceBackend(),
    });
    expect(report.scored).toBe(136);
    expect(report.text).toBe('pride-and-prejudice');
    expect(report.extrapolated).toBe(false);
    // FORMATS.md: stories260K scores about 3.27 nats/token on Pride and Prejudice (out of distribution).
    expect(report.dense.nll).toBeGreaterThan(2.5);
    expect(report.dense.nll).toBeLessThan(4.5);
    const [same, tiny] = report.results;
    expect(same!.nllDelta).toBe(0);
    expect(same!.nextTokenAgreement).toBe(1);
    expect(same!.greedyAgreement).toBe(24);
    expect(same!.density).toBe(1);
    expect(tiny!.nllDelta).toBeGreaterThan(0.1);
    expect(tiny!.nllDeltaMax).toBeGreaterThan(tiny!.nllDelta);
    expect(tiny!.nextTokenAgreement).toBeLessThan(0.95);
    expect(tiny!.density).toBeLessThan(0.1);
    expect(formatEndToEnd(report)).toMatch(/window 2/);
  });

  it('scores tinybooks-2k on its held-out text near its measured 2.35 bits per byte', async () => {
    const report = await endToEnd({
      model: 'tinybooks-2k',
      positions: 200,
      greedyTokens: 8,
      methods: [{ label: 'window 64', recipe: { method: 'window', params: { window: 64 } } }],
      registry: testRegistry,
      backend: createReferenceBackend(),
    });
    expect(report.text).toBe('tinyshakespeare');
    expect(report.offset).toBe(1_024_740);
    const bitsPerByte = report.dense.nll / Math.log(2);
    expect(bitsPerByte).toBeGreaterThan(1.6);
    expect(bitsPerByte).toBeLessThan(3.2);
    expect(report.results[0]!.nllDelta).toBeGreaterThanOrEqual(-0.05);
  });
});
