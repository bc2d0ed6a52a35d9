import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  covers,
  forEachRun,
  forEachRunDescending,
  IntervalSet,
  type IntSet,
  intersects,
  interval,
  PeriodicSet,
  ReflectedSet,
  UnionSet,
} from './int-set.js';

const LO = -60;
const HI = 60;

const setArb: fc.Arbitrary<IntSet> = fc.letrec<{ set: IntSet }>((tie) => ({
  set: fc.oneof(
    { depthSize: 'small' },
    fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -50, max: 50 })).map(([a, b]) => interval(a, b)),
    fc
      .array(fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 6 })), { maxLength: 5 })
      .map((xs) => new IntervalSet(xs.map(([a, w]) => [a, a + w] as const))),
    fc
      .record({
        period: fc.integer({ min: 1, max: 9 }),
        width: fc.integer({ min: 1, max: 10 }),
        phase: fc.integer({ min: -20, max: 20 }),
        lo: fc.integer({ min: -55, max: 0 }),
        hi: fc.integer({ min: 0, max: 55 }),
      })
      .map((p) => new PeriodicSet(p.period, p.width, p.phase, p.lo, p.hi)),
    fc.array(tie('set'), { minLength: 1, maxLength: 3 }).map((parts) => new UnionSet(parts)),
    fc.tuple(tie('set'), fc.integer({ min: -10, max: 10 })).map(([s, c]) => new ReflectedSet(s, c)),
  ),
})).set;

/** Members of the set within [LO − 20, HI + 20], by brute force over `has`. */
function members(set: IntSet): Set<number> {
  const out = new Set<number>();
  for (let x = LO - 20; x <= HI + 20; x++) if (set.has(x)) out.add(x);
  return out;
}

describe('IntSet implementations agree with brute-force membership', () => {
  it('next, prev, runStart, runEnd, covers, intersects and run iteration', () => {
    fc.assert(
      fc.property(setArb, (set) => {
        const m = members(set);
        for (let x = LO; x <= HI; x++) {
          let next = Infinity;
          for (let y = x; y <= HI + 20; y++)
            if (m.has(y)) {
              next = y;
              break;
            }
          let prev = -Infinity;
          for (let y = x; y >= LO - 20; y--)
            if (m.has(y)) {
              prev = y;
              break;
            }
          if (next <= HI) expect(set.next(x)).toBe(next);
          if (prev >= LO) expect(set.prev(x)).toBe(prev);
          if (m.has(x) && x > LO && x < HI) {
            let end = x;
            while (m.has(end + 1) && end < HI) end++;
            let start = x;
            while (m.has(start - 1) && start > LO) start--;
            if (end < HI) expect(set.runEnd(x)).toBe(end);
            if (start > LO) expect(set.runStart(x)).toBe(start);
          }
        }
        for (let a = LO; a <= HI; a += 7) {
          for (let b = a; b <= Math.min(HI, a + 20); b += 3) {
            let all = true;
            let any = false;
            for (let y = a; y <= b; y++) m.has(y) ? (any = true) : (all = false);
            expect(covers(set, a, b)).toBe(all);
            expect(intersects(set, a, b)).toBe(any);
          }
        }
        const up: number[] = [];
        forEachRun(set, LO, HI, (a, b) => {
          for (let y = a; y <= b; y++) up.push(y);
        });
        const down: number[] = [];
        forEachRunDescending(set, LO, HI, (a, b) => {
          for (let y = b; y >= a; y--) down.push(y);
        });
        const expected = [...m].filter((y) => y >= LO && y <= HI).sort((p, q) => p - q);
        expect(up).toEqual(expected);
        expect(down).toEqual([...expected].reverse());
      }),
      { numRuns: 300, seed: 42 },
    );
  });
});
