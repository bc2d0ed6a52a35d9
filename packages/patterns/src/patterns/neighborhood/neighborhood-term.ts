import { Coverage, type RangeSink, type Term } from '../../engine/term.js';
import { type AxisRule, axisCoverage, axisReach } from './axis.js';
import type { GridLayout } from './layout.js';

/**
 * A multi-dimensional neighborhood as a term: a pair is kept iff it is kept on every axis. A kernel block of
 * tokens is a few coordinate boxes; a product mask on a product box is all kept iff all kept on every axis, and
 * touched iff touched on every axis.
 */
export function neighborhoodTerm(layout: GridLayout, rules: readonly AxisRule[], keeps: (q: number, k: number) => boolean): Term {
  const dims = rules.length;
  return {
    has: keeps,
    cover(q0, q1, k0, k1) {
      const queryBoxes = layout.boxes(q0, q1 - 1);
      const keyBoxes = layout.boxes(k0, k1 - 1);
      let all = true;
      let some = false;
      for (const qb of queryBoxes) {
        for (const kb of keyBoxes) {
          let pairAll = true;
          let pairSome = true;
          for (let a = 0; a < dims && pairSome; a++) {
            const [qa0, qa1] = qb[a] as [number, number];
            const [ka0, ka1] = kb[a] as [number, number];
            const c = axisCoverage(rules[a] as AxisRule, qa0, qa1, ka0, ka1);
            if (c === Coverage.none) pairSome = false;
            if (c !== Coverage.all) pairAll = false;
          }
          if (pairSome) some = true;
          else pairAll = false;
          if (!pairAll) all = false;
          if (some && !all) return Coverage.some;
        }
      }
      return all ? Coverage.all : some ? Coverage.some : Coverage.none;
    },
    keyRanges(q0, q1, kvLength, sink: RangeSink) {
      for (const box of layout.boxes(q0, q1 - 1)) {
        const reach = box.map(([a, b], axis) => {
          const [lo, hi] = axisReach(rules[axis] as AxisRule, a, b);
          return [Math.max(0, lo), Math.min((rules[axis] as AxisRule).extent - 1, hi)] as [number, number];
        });
        emitRows(layout, reach, 0, 0, kvLength, sink);
      }
    },
  };
}

/** Emits the token ranges of a coordinate box: one contiguous run per combination of the leading coordinates. */
function emitRows(layout: GridLayout, box: [number, number][], axis: number, base: number, kvLength: number, sink: RangeSink): void {
  const [lo, hi] = box[axis] as [number, number];
  const step = layout.steps[axis] as number;
  if (axis === box.length - 1) {
    const a = base + lo;
    const b = Math.min(kvLength - 1, base + hi);
    if (a <= b) sink(a, b);
    return;
  }
  for (let c = lo; c <= hi; c++) {
    const next = base + c * step;
    if (next >= kvLength) return;
    emitRows(layout, box, axis + 1, next, kvLength, sink);
  }
}
