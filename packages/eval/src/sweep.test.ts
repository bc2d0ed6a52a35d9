import { createReferenceBackend } from '@sparseland/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { testRegistry } from '../test/helpers.js';
import { densityRecallSvg, speedSvg } from './plots/charts.js';
import { paretoFront } from './plots/pareto.js';
import { speedVsLength } from './speed.js';
import { mergeReports, sweep } from './sweep.js';
import { syntheticWorkload } from './workloads/synthetic.js';

const workload = () => syntheticWorkload({ n: 300, seed: 2, heads: 2, kvHeads: 1, dim: 16, structure: { band: 16, needles: 1 } });

describe('paretoFront', () => {
  it('keeps exactly the points no other point beats on both axes, sorted by density', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ density: fc.double({ min: 0, max: 1, noNaN: true }), recall: fc.double({ min: 0, max: 1, noNaN: true }) })),
        (points) => {
          const front = paretoFront(points);
          const dominated = (p: { density: number; recall: number }) =>
            points.some((o) => o.density <= p.density && o.recall >= p.recall && (o.density < p.density || o.recall > p.recall));
          for (const p of front) expect(dominated(p)).toBe(false);
          for (const p of points) if (!dominated(p)) expect(front.some((f) => f.density === p.density && f.recall === p.recall)).toBe(true);
          for (let i = 1; i < front.length; i++) expect(front[i]!.density).toBeGreaterThanOrEqual(front[i - 1]!.density);
        },
      ),
    );
  });
});

describe('sweep', () => {
  it('matches the target densities, evaluates each setting, and plots density vs recall per method', async () => {
    const backend = createReferenceBackend();
    const a = await sweep({ method: 'window', workloads: [workload()], registry: testRegistry, backend, densities: [0.1, 0.3, 0.6] });
    expect(a.param).toBe('window');
    expect(a.points.map((p) => p.targetDensity)).toEqual([0.1, 0.3, 0.6]);
    const densities = a.report.results.map((r) => r.summary.density);
    densities.forEach((d, i) => expect(Math.abs(d - [0.1, 0.3, 0.6][i]!)).toBeLessThan(0.02));
    const recalls = a.report.results.map((r) => r.summary.recallMean);
    expect(recalls[1]!).toBeGreaterThan(recalls[0]!);
    expect(recalls[2]!).toBeGreaterThan(recalls[1]!);
    expect(a.report.results.every((r) => r.group === 'window')).toBe(true);

    const b = await sweep({ method: 'every-nth', values: [2, 8], workloads: [workload()], registry: testRegistry, backend });
    expect(b.points.map((p) => p.label)).toEqual(['every-nth stride=2', 'every-nth stride=8']);
    const both = mergeReports([a.report, b.report]);
    expect(both.results).toHaveLength(5);
    const svg = await densityRecallSvg(both, 'synthetic:300');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('every-nth');
    expect(svg).toContain('Density vs recall: synthetic:300');
  });
});

describe('speedVsLength', () => {
  it('times every method at every length (median of at least 5 runs) and plots it', async () => {
    const records = await speedVsLength({
      methods: [
        { label: 'window', recipe: { method: 'window', params: { window: 8 } } },
        { label: 'dense', recipe: { method: 'dense' } },
      ],
      lengths: [64, 128],
      registry: testRegistry,
      backend: createReferenceBackend(),
      heads: 2,
      kvHeads: 1,
      dim: 8,
    });
    expect(records.map((r) => [r.method, r.n])).toEqual([
      ['window', 64],
      ['dense', 64],
      ['window', 128],
      ['dense', 128],
    ]);
    for (const r of records) {
      expect(r.runs).toBe(5);
      expect(r.minMs).toBeLessThanOrEqual(r.medianMs);
    }
    expect(records[1]!.density).toBe(1);
    expect(records[0]!.density).toBeLessThan(1);
    const svg = await speedSvg(records, 'reference');
    expect(svg).toContain('Attention time vs sequence length (reference)');
  });
});
