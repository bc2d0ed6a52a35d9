// Each evicting policy against a float64 re-implementation of its own rule, written over positions (not slots) and
// sharing no code with the package: the positions every kv head holds after prefill and after every decode step.
import { describe, expect, it } from 'vitest';
import { adaKv, expectedAttention, h2o, pyramidBudget, pyramidKv, snapKv, streamingLlm, tova } from '../src/index.js';
import { drive, type History, range, softmaxOver, topPositions } from './drive.js';

const SHAPE = { qHeads: 4, kvHeads: 2, dim: 8, prompt: 40, steps: 12 } as const;

function expectHeld(records: ReturnType<typeof drive>['records'], oracle: number[][][]): void {
  expect(records.length).toBe(oracle.length);
  records.forEach((r, i) => {
    expect({ step: r.step, held: r.held }).toEqual({ step: r.step, held: oracle[i] });
  });
}

/** Runs `visit(step, position)` for prefill (step 0, last prompt position) and each decode step. */
function eachHook(shape: typeof SHAPE, visit: (step: number, newest: number) => void): void {
  visit(0, shape.prompt - 1);
  for (let step = 1; step <= shape.steps; step++) visit(step, shape.prompt + step - 1);
}

const group = SHAPE.qHeads / SHAPE.kvHeads;
const groupHeads = (g: number) => range(g * group, (g + 1) * group);

describe('streaming-llm', () => {
  it('keeps the sinks and the newest tokens, budget by budget', () => {
    const budget = 12;
    const sink = 3;
    const { records } = drive(streamingLlm.build(streamingLlm.parseParams({ budget, sink })), SHAPE);
    const oracle: number[][][] = [];
    eachHook(SHAPE, (_s, newest) => {
      const held = [...range(0, sink), ...range(newest - (budget - sink) + 1, newest + 1)];
      oracle.push([held, held]);
    });
    expectHeld(records, oracle);
  });
});

describe('h2o', () => {
  for (const recentShare of [0.5, 0.25]) {
    it(`heavy hitters by accumulated attention + ${recentShare * 100}% recent, one eviction per step`, () => {
      const budget = 10;
      const { records, history } = drive(h2o.build(h2o.parseParams({ budget, recentShare })), SHAPE);
      const recent = Math.max(1, Math.round(budget * recentShare));
      const oracle: number[][][] = [];
      const held = [range(0, SHAPE.prompt), range(0, SHAPE.prompt)];
      const acc = [new Map<number, number>(), new Map<number, number>()];
      eachHook(SHAPE, (step, newest) => {
        for (let g = 0; g < 2; g++) {
          if (step > 0) held[g]!.push(newest);
          const queries = step === 0 ? range(0, SHAPE.prompt) : [newest];
          for (const i of queries) {
            for (const h of groupHeads(g)) {
              const visible = held[g]!.filter((p) => p <= i);
              for (const [p, prob] of softmaxOver(history.q[0]![h]![i]!, history.k[0]![g]!, visible))
                acc[g]!.set(p, (acc[g]!.get(p) ?? 0) + prob);
            }
          }
          if (held[g]!.length > budget)
            held[g] = topPositions(
              held[g]!,
              (p) => acc[g]!.get(p) ?? 0,
              budget,
              (p) => p > newest - recent,
            );
        }
        oracle.push(held.map((h) => [...h]));
      });
      expectHeld(records, oracle);
    });
  }

  it('a fractional budget is a share of the prompt', () => {
    const { records } = drive(h2o.build(h2o.parseParams({ budget: 0.25 })), SHAPE);
    for (const r of records) for (const held of r.held) expect(held.length).toBe(10);
  });
});

describe('tova', () => {
  it("keeps the top tokens by the newest query's attention averaged over all heads of the layer", () => {
    const budget = 9;
    const { records, history } = drive(tova.build(tova.parseParams({ budget })), SHAPE);
    let held = range(0, SHAPE.prompt);
    const oracle: number[][][] = [];
    eachHook(SHAPE, (step, newest) => {
      if (step > 0) held.push(newest);
      const score = new Map<number, number>();
      for (let h = 0; h < SHAPE.qHeads; h++) {
        const g = Math.floor(h / group);
        for (const [p, prob] of softmaxOver(history.q[0]![h]![newest]!, history.k[0]![g]!, held))
          score.set(p, (score.get(p) ?? 0) + prob / SHAPE.qHeads);
      }
      if (held.length > budget)
        held = topPositions(
          held,
          (p) => score.get(p) ?? 0,
          budget,
          (p) => p === newest,
        );
      oracle.push([[...held], [...held]]);
    });
    expectHeld(records, oracle);
  });
});

/** SnapKV's rule over positions: the last `window` queries vote, votes pooled over slot order, window kept. */
function snapOracle(
  history: History,
  budgets: (layer: number) => number,
  opts: { window: number; kernel: number; pooling: 'avg' | 'max' },
  layer = 0,
) {
  const budget = budgets(layer);
  const held = [range(0, SHAPE.prompt), range(0, SHAPE.prompt)];
  const oracle: number[][][] = [];
  eachHook(SHAPE, (step, newest) => {
    for (let g = 0; g < 2; g++) {
      if (step > 0) held[g]!.push(newest);
      if (held[g]!.length <= budget) continue;
      const window = range(Math.max(0, newest - opts.window + 1), newest + 1);
      const votes = new Map<number, number>();
      for (const i of window) {
        for (const h of groupHeads(g)) {
          const visible = held[g]!.filter((p) => p <= i);
          for (const [p, prob] of softmaxOver(history.q[layer]![h]![i]!, history.k[layer]![g]!, visible))
            votes.set(p, (votes.get(p) ?? 0) + prob);
        }
      }
      const slots = held[g]!;
      const half = Math.floor(opts.kernel / 2);
      const pooled = new Map<number, number>();
      slots.forEach((p, s) => {
        const around = range(Math.max(0, s - half), Math.min(slots.length, s + half + 1)).map((t) => votes.get(slots[t]!) ?? 0);
        pooled.set(p, opts.pooling === 'max' ? Math.max(...around) : around.reduce((a, b) => a + b, 0) / opts.kernel);
      });
      const recent = Math.max(1, Math.min(opts.window, budget));
      held[g] = topPositions(
        slots,
        (p) => pooled.get(p) ?? 0,
        budget,
        (p) => p > newest - recent,
      );
    }
    oracle.push(held.map((h) => [...h]));
  });
  return oracle;
}

describe('snapkv', () => {
  for (const pooling of ['avg', 'max'] as const) {
    it(`observation-window vote with ${pooling} pooling, the window kept, sliding over decode queries`, () => {
      const opts = { window: 6, kernel: 5, pooling };
      const { records, history } = drive(snapKv.build(snapKv.parseParams({ budget: 14, ...opts })), SHAPE);
      expectHeld(
        records,
        snapOracle(history, () => 14, opts),
      );
    });
  }
});

describe('pyramidkv', () => {
  it('layer budgets fall linearly from bottom to top around the mean; each layer is SnapKV at its budget', () => {
    const layers = 4;
    const opts = { window: 4, kernel: 3, pooling: 'max' as const };
    const budget = 16;
    const { records, history } = drive(pyramidKv.build(pyramidKv.parseParams({ budget, beta: 4, ...opts })), { ...SHAPE, layers });
    const layerBudget = (l: number) => pyramidBudget(budget - opts.window, l, layers, 4) + opts.window;
    expect([0, 1, 2, 3].map(layerBudget)).toEqual([25, 19, 13, 7]);
    expect([0, 1, 2, 3].map(layerBudget).reduce((a, b) => a + b) / layers).toBe(budget);
    for (let l = 0; l < layers; l++) {
      expectHeld(
        records.filter((r) => r.layer === l),
        snapOracle(history, layerBudget, opts, l),
      );
    }
  });
});

describe('adakv', () => {
  it("one top-k over every head's votes shares the layer budget; each head keeps its safeguard", () => {
    const opts = { window: 5, kernel: 3, pooling: 'max' as const };
    const budget = 12;
    const alpha = 0.25;
    const { records, history } = drive(adaKv.build(adaKv.parseParams({ budget, alpha, ...opts })), SHAPE);
    const held = [range(0, SHAPE.prompt), range(0, SHAPE.prompt)];
    const oracle: number[][][] = [];
    eachHook(SHAPE, (step, newest) => {
      if (step > 0) for (const h of held) h.push(newest);
      if (held.every((h) => h.length <= budget)) {
        oracle.push(held.map((h) => [...h]));
        return;
      }
      const window = range(Math.max(0, newest - opts.window + 1), newest + 1);
      const pooled = held.map((slots, g) => {
        const votes = new Map<number, number>();
        for (const i of window) {
          for (const h of groupHeads(g)) {
            for (const [p, prob] of softmaxOver(
              history.q[0]![h]![i]!,
              history.k[0]![g]!,
              slots.filter((p) => p <= i),
            ))
              votes.set(p, (votes.get(p) ?? 0) + prob);
          }
        }
        return new Map(
          slots.map((p, s) => [
            p,
            Math.max(...range(Math.max(0, s - 1), Math.min(slots.length, s + 2)).map((t) => votes.get(slots[t]!) ?? 0)),
          ]),
        );
      });
      const recent = Math.min(opts.window, budget);
      const isProtected = (p: number) => p > newest - recent;
      const kept = held.map((slots, g) => {
        const floor = Math.max(Math.floor(alpha * budget), slots.filter(isProtected).length);
        return new Set(topPositions(slots, (p) => pooled[g]!.get(p)!, floor, isProtected));
      });
      const rest = held.flatMap((slots, g) => slots.filter((p) => !kept[g]!.has(p)).map((p) => ({ g, p, score: pooled[g]!.get(p)! })));
      rest.sort((a, b) => b.score - a.score || b.p - a.p || a.g - b.g);
      let total = kept.reduce((n, k) => n + k.size, 0);
      for (const r of rest) {
        if (total >= budget * 2) break;
        kept[r.g]!.add(r.p);
        total++;
      }
      for (let g = 0; g < 2; g++) held[g] = [...kept[g]!].sort((a, b) => a - b);
      oracle.push(held.map((h) => [...h]));
    });
    expectHeld(records, oracle);
    // The point of AdaKV: heads end up with different lengths, and the layer holds the layer budget.
    const last = records[records.length - 1]!;
    expect(last.held[0]!.length + last.held[1]!.length).toBe(2 * budget);
    expect(records.some((r) => r.held[0]!.length !== r.held[1]!.length)).toBe(true);
  });
});

describe('expected-attention', () => {
  it('keeps the keys Gaussian future queries (rotated by averaged RoPE) would attend to, times ‖v‖', () => {
    const budget = 11;
    const params = { budget, futurePositions: 16, sink: 2, statsWindow: 20, ropeBase: 100 };
    const { records, history } = drive(expectedAttention.build(expectedAttention.parseParams(params)), SHAPE);
    const d = SHAPE.dim;
    /** The full d×d rotation of RoPE at a position (interleaved pairs). */
    const rotation = (pos: number): number[][] => {
      const r = Array.from({ length: d }, () => new Array<number>(d).fill(0));
      for (let c = 0; c < d; c += 2) {
        const a = pos * params.ropeBase ** (-c / d);
        r[c]![c] = Math.cos(a);
        r[c]![c + 1] = -Math.sin(a);
        r[c + 1]![c] = Math.sin(a);
        r[c + 1]![c + 1] = Math.cos(a);
      }
      return r;
    };
    const mul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, j) => row.reduce((s, x, k) => s + x * b[k]![j]!, 0)));
    const transpose = (a: number[][]) => a[0]!.map((_, j) => a.map((row) => row[j]!));
    const apply = (a: number[][], x: number[]) => a.map((row) => row.reduce((s, v, k) => s + v * x[k]!, 0));
    let held = [range(0, SHAPE.prompt), range(0, SHAPE.prompt)];
    const oracle: number[][][] = [];
    eachHook(SHAPE, (step, newest) => {
      if (step > 0) held = held.map((h) => [...h, newest]);
      if (held.every((h) => h.length <= budget)) {
        oracle.push(held.map((h) => [...h]));
        return;
      }
      const window = range(Math.max(params.sink, newest - params.statsWindow + 1), newest + 1);
      let mean = Array.from({ length: d }, () => Array.from({ length: d }, () => 0))[0]!;
      const rBar = Array.from({ length: d }, () => new Array<number>(d).fill(0));
      for (let t = 1; t <= params.futurePositions; t++) {
        const r = rotation(newest + t);
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) rBar[i]![j]! += r[i]![j]! / params.futurePositions;
      }
      held = held.map((slots, g) => {
        const score = new Map<number, number>(slots.map((p) => [p, 0]));
        for (const h of groupHeads(g)) {
          const pre = window.map((i) => apply(transpose(rotation(i)), history.q[0]![h]![i]!));
          mean = range(0, d).map((c) => pre.reduce((s, x) => s + x[c]!, 0) / pre.length);
          const cov = range(0, d).map((a) =>
            range(0, d).map((b) => pre.reduce((s, x) => s + (x[a]! - mean[a]!) * (x[b]! - mean[b]!), 0) / pre.length),
          );
          const mu = apply(rBar, mean);
          const sigma = mul(mul(rBar, cov), transpose(rBar));
          const z = slots.map((p) => {
            const k = history.k[0]![g]![p]!;
            const quad = apply(sigma, k).reduce((s, x, i) => s + x * k[i]!, 0);
            return k.reduce((s, x, i) => s + x * mu[i]!, 0) / Math.sqrt(d) + quad / (2 * d);
          });
          const max = Math.max(...z);
          const sum = z.reduce((s, x) => s + Math.exp(x - max), 0);
          slots.forEach((p, s) => score.set(p, score.get(p)! + Math.exp(z[s]! - max) / sum / group));
        }
        const weighted = (p: number) => score.get(p)! * Math.hypot(...history.v[0]![g]![p]!);
        return topPositions(slots, weighted, budget, (p) => p < params.sink || p === newest);
      });
      oracle.push(held.map((h) => [...h]));
    });
    expectHeld(records, oracle);
  });
});

describe('budgets and bad parameters', () => {
  it('policies report their budget; protected slots that cannot fit the budget are refused', () => {
    expect(() => streamingLlm.build(streamingLlm.parseParams({ budget: 4, sink: 4 }))).toThrow(
      /E_PARAMS.*sink \(4\) \+ recent \(1\) must fit in the budget \(4 tokens\)/,
    );
    expect(() => h2o.parseParams({ budget: 1.5 })).toThrow(/E_PARAMS.*integer/);
    expect(() => h2o.parseParams({ budget: 0 })).toThrow(/E_PARAMS.*> 0/);
    expect(() => snapKv.parseParams({ window: 0 })).toThrow(/E_PARAMS.*window/);
    expect(() => snapKv.parseParams({ pooling: 'median' })).toThrow(/E_PARAMS.*pooling/);
  });
});
