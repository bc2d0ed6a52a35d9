// Select-only policies (nothing evicted) against float64 re-implementations of their rules: which token positions
// each kv head reads at every decode step.
import { describe, expect, it } from 'vitest';
import { doubleSparsity, quest, tidalDecode } from '../src/index.js';
import { drive, range, softmaxOver, topPositions } from './drive.js';

const SHAPE = { qHeads: 4, kvHeads: 2, dim: 8, prompt: 90, steps: 8 } as const;
const group = SHAPE.qHeads / SHAPE.kvHeads;
const groupHeads = (g: number) => range(g * group, (g + 1) * group);

describe('quest', () => {
  it('reads the pages with the highest q·k upper bound (from key min / max), the newest page always; layers below denseLayers read all', () => {
    const pageSize = 8;
    const budget = 40;
    const layers = 2;
    const { records, history } = drive(quest.build(quest.parseParams({ budget, pageSize, denseLayers: 1 })), { ...SHAPE, layers });
    for (const r of records) {
      expect(r.held[0]!.length).toBe(r.step === 0 ? SHAPE.prompt : SHAPE.prompt + r.step);
      if (r.step === 0) continue;
      if (r.layer === 0) {
        expect(r.selected).toBeUndefined();
        continue;
      }
      const newest = SHAPE.prompt + r.step - 1;
      const n = newest + 1;
      const pages = Math.ceil(n / pageSize);
      for (let g = 0; g < 2; g++) {
        const keys = history.k[1]![g]!;
        const bound = (p: number) =>
          Math.max(
            ...groupHeads(g).map((h) => {
              const q = history.q[1]![h]![newest]!;
              let u = 0;
              for (let c = 0; c < SHAPE.dim; c++) {
                const column = range(p * pageSize, Math.min(n, (p + 1) * pageSize)).map((t) => keys[t]![c]!);
                u += Math.max(q[c]! * Math.min(...column), q[c]! * Math.max(...column));
              }
              return u;
            }),
          );
        const chosen = topPositions(range(0, pages), bound, Math.max(3, Math.floor(budget / pageSize)), (p) => p === pages - 1);
        const want = chosen.flatMap((p) => range(p * pageSize, Math.min(n, (p + 1) * pageSize)));
        expect({ step: r.step, g, selected: r.selected![g] }).toEqual({ step: r.step, g, selected: want });
      }
    }
  });

  it('reports its selection budget and never reads more', () => {
    const policy = quest.build(quest.parseParams({ budget: 0.25, denseLayers: 0 }));
    const { records, caches } = drive(policy, SHAPE);
    const ctx = { layer: 0, layers: 1, step: 1, position: 90, session: {} };
    const bound = policy.budget?.(caches[0]!, ctx).selected as number;
    expect(bound).toBe(Math.max(3, Math.floor(Math.round(0.25 * 90) / 16)) * 16 * 2);
    for (const r of records.filter((x) => x.selected)) expect(r.selected![0]!.length + r.selected![1]!.length).toBeLessThanOrEqual(bound);
  });
});

describe('tidal-decode', () => {
  it('selects top-k positions at the selection layer, reuses them below, re-selects at the correction layer', () => {
    const topK = 12;
    const layers = 5;
    const { records, history } = drive(
      tidalDecode.build(tidalDecode.parseParams({ budget: topK, selectionLayer: 1, correctionLayer: 3 })),
      {
        ...SHAPE,
        layers,
      },
    );
    for (let step = 1; step <= SHAPE.steps; step++) {
      const newest = SHAPE.prompt + step - 1;
      const pick = (layer: number) =>
        range(0, 2).map((g) => {
          const mass = new Map<number, number>();
          for (const h of groupHeads(g)) {
            for (const [p, prob] of softmaxOver(history.q[layer]![h]![newest]!, history.k[layer]![g]!, range(0, newest + 1)))
              mass.set(p, (mass.get(p) ?? 0) + prob);
          }
          return topPositions(
            range(0, newest + 1),
            (p) => mass.get(p)!,
            topK,
            (p) => p === newest,
          );
        });
      const at = (layer: number) => records.find((r) => r.step === step && r.layer === layer)!;
      // Layer 0 (before selection), 1 (selection) and 3 (correction) attend densely.
      expect([0, 1, 3].map((l) => at(l).selected)).toEqual([undefined, undefined, undefined]);
      expect(at(2).selected).toEqual(pick(1));
      expect(at(4).selected).toEqual(pick(3));
    }
  });
});

describe('double-sparsity', () => {
  it('scores tokens from a label cache of calibrated channels (|q_c·k_c| on the prompt) and reads the top ones', () => {
    const budget = 15;
    const groupFactor = 4;
    const labelBits = 4;
    const { records, history } = drive(
      doubleSparsity.build(doubleSparsity.parseParams({ budget, groupFactor, labelBits, denseLayers: 0 })),
      SHAPE,
    );
    const r = SHAPE.dim / groupFactor;
    const channels = range(0, 2).map((g) => {
      const importance = range(0, SHAPE.dim).map((c) =>
        groupHeads(g).reduce(
          (s, h) => s + range(0, SHAPE.prompt).reduce((t, i) => t + Math.abs(history.q[0]![h]![i]![c]! * history.k[0]![g]![i]![c]!), 0),
          0,
        ),
      );
      return range(0, SHAPE.dim)
        .sort((a, b) => importance[b]! - importance[a]! || a - b)
        .slice(0, r)
        .sort((a, b) => a - b);
    });
    const qmax = 2 ** (labelBits - 1) - 1;
    for (const rec of records.filter((x) => x.step > 0)) {
      const newest = SHAPE.prompt + rec.step - 1;
      for (let g = 0; g < 2; g++) {
        const score = (p: number) => {
          const k = history.k[0]![g]![p]!;
          const absmax = Math.max(...channels[g]!.map((c) => Math.abs(k[c]!)));
          const scale = Math.fround(absmax / qmax);
          return Math.max(
            ...groupHeads(g).map((h) => {
              const q = history.q[0]![h]![newest]!;
              const dot = channels[g]!.reduce(
                (s, c) => s + q[c]! * (scale === 0 ? 0 : Math.max(-qmax, Math.min(qmax, Math.round(k[c]! / (absmax / qmax))))),
                0,
              );
              return (dot * scale) / Math.sqrt(r);
            }),
          );
        };
        const want = topPositions(range(0, newest + 1), score, budget, (p) => p === newest);
        expect({ step: rec.step, g, selected: rec.selected![g] }).toEqual({ step: rec.step, g, selected: want });
      }
    }
  });
});
