import { Coverage } from '../../engine/term.js';

/** One axis of a neighborhood: its extent and NATTEN's kernel size, dilation, stride and causal flag. */
export interface AxisRule {
  readonly extent: number;
  readonly kernel: number;
  readonly dilation: number;
  readonly stride: number;
  readonly causal: boolean;
}

/** Size of dilation group r (coordinates ≡ r mod dilation) on this axis. */
export function groupExtent(rule: AxisRule, r: number): number {
  return Math.floor(rule.extent / rule.dilation) + (r < rule.extent % rule.dilation ? 1 : 0);
}

/**
 * The window [lo, hi] (group coordinates) that group coordinate `g` of dilation group `r` attends to, by the GNA
 * rule. Non-causal: the stride group's centre query, clamped so the window stays inside the axis (it shifts at the
 * borders, every query sees `kernel` keys). Causal: from the stride group's last query back `kernel` keys, never past
 * the query itself (truncated at the start). An axis shorter than the kernel is seen whole.
 */
export function windowOf(rule: AxisRule, r: number, g: number): [number, number] {
  const n = groupExtent(rule, r);
  const kernel = Math.min(rule.kernel, n);
  const s = rule.stride;
  if (rule.causal) {
    const leader = Math.min(Math.floor(g / s) * s + s - 1, n - 1);
    return [Math.max(0, leader - kernel + 1), g];
  }
  const left = Math.floor(kernel / 2);
  const right = Math.floor(kernel / 2) + (kernel % 2) - 1;
  const leader = Math.min(Math.floor(g / s) * s + Math.floor(s / 2), n - 1);
  const centre = Math.min(Math.max(leader, left), n - 1 - right);
  return [centre - left, centre + right];
}

/**
 * Coverage of the coordinate box [q0, q1] × [k0, k1] (inclusive) on one axis. Windows move monotonically with the
 * query and consecutive windows touch (stride <= kernel), so the union of a range's windows is [lo(first), hi(last)]
 * and their intersection [lo(last), hi(first)].
 */
export function axisCoverage(rule: AxisRule, q0: number, q1: number, k0: number, k1: number): Coverage {
  const d = rule.dilation;
  if (d === 1) {
    const [loFirst, hiFirst] = windowOf(rule, 0, q0);
    const [loLast, hiLast] = windowOf(rule, 0, q1);
    if (loFirst > k1 || hiLast < k0) return Coverage.none;
    return loLast <= k0 && hiFirst >= k1 ? Coverage.all : Coverage.some;
  }
  let some = false;
  for (let r = 0; r < d && !some; r++) {
    const g0 = Math.ceil((q0 - r) / d);
    const g1 = Math.floor((q1 - r) / d);
    const h0 = Math.ceil((k0 - r) / d);
    const h1 = Math.floor((k1 - r) / d);
    if (g0 > g1 || h0 > h1) continue;
    const lo = windowOf(rule, r, g0)[0];
    const hi = windowOf(rule, r, g1)[1];
    if (lo <= h1 && hi >= h0) some = true;
  }
  if (!some) return Coverage.none;
  // Two different coordinates on one side have different dilation groups, so only a single pair can be all kept.
  return q0 === q1 && k0 === k1 ? Coverage.all : Coverage.some;
}

/** Smallest and largest key coordinate any query of [q0, q1] keeps on this axis. */
export function axisReach(rule: AxisRule, q0: number, q1: number): [number, number] {
  const d = rule.dilation;
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < d; r++) {
    const g0 = Math.ceil((q0 - r) / d);
    const g1 = Math.floor((q1 - r) / d);
    if (g0 > g1) continue;
    lo = Math.min(lo, windowOf(rule, r, g0)[0] * d + r);
    hi = Math.max(hi, windowOf(rule, r, g1)[1] * d + r);
  }
  return [lo, hi];
}
