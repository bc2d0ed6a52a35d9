/**
 * Sets of integers described by runs (maximal intervals of consecutive members). Patterns use them for the
 * distances q − k a diagonal band keeps, the key columns every query sees, and the query rows that see
 * everything. Every operation is O(log runs) or O(1), so a set with a million members costs nothing to ask.
 */
export interface IntSet {
  has(x: number): boolean;
  /** Smallest member ≥ x, or +Infinity. */
  next(x: number): number;
  /** Largest member ≤ x, or −Infinity. */
  prev(x: number): number;
  /** Last member of the run containing the member x. */
  runEnd(x: number): number;
  /** First member of the run containing the member x. */
  runStart(x: number): number;
}

/** Large enough for any sequence position, small enough that sums stay exact in doubles. */
export const HUGE = 2 ** 40;

/** Whether every integer of [a, b] is a member (true for an empty range). */
export function covers(set: IntSet, a: number, b: number): boolean {
  if (b < a) return true;
  return set.has(a) && set.runEnd(a) >= b;
}

/** Whether some integer of [a, b] is a member. */
export function intersects(set: IntSet, a: number, b: number): boolean {
  return b >= a && set.next(a) <= b;
}

/** Calls fn(a, b) for every run clipped to [lo, hi], in ascending order. */
export function forEachRun(set: IntSet, lo: number, hi: number, fn: (a: number, b: number) => void): void {
  let x = set.next(lo);
  while (x <= hi) {
    const end = set.runEnd(x);
    fn(x, Math.min(end, hi));
    if (end >= hi) return;
    x = set.next(end + 1);
  }
}

/** Calls fn(a, b) for every run clipped to [lo, hi], in descending order. */
export function forEachRunDescending(set: IntSet, lo: number, hi: number, fn: (a: number, b: number) => void): void {
  let x = set.prev(hi);
  while (x >= lo) {
    const start = set.runStart(x);
    fn(Math.max(start, lo), x);
    if (start <= lo) return;
    x = set.prev(start - 1);
  }
}

/**
 * Runs already sorted, disjoint and non-adjacent: runs first … first + count − 1 of two shared arrays, so many small
 * sets (one per query block) can live in one table without a copy each.
 */
export class RunTable implements IntSet {
  constructor(
    private readonly starts: ArrayLike<number>,
    private readonly ends: ArrayLike<number>,
    private readonly first: number,
    private readonly count: number,
  ) {}

  /** Index of the last run starting at or before x, or first − 1. */
  private runAtOrBefore(x: number): number {
    let lo = this.first;
    let hi = this.first + this.count - 1;
    let found = this.first - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((this.starts[mid] as number) <= x) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  has(x: number): boolean {
    const r = this.runAtOrBefore(x);
    return r >= this.first && x <= (this.ends[r] as number);
  }

  next(x: number): number {
    const r = this.runAtOrBefore(x);
    if (r >= this.first && x <= (this.ends[r] as number)) return x;
    return r + 1 < this.first + this.count ? (this.starts[r + 1] as number) : Infinity;
  }

  prev(x: number): number {
    const r = this.runAtOrBefore(x);
    if (r < this.first) return -Infinity;
    return Math.min(x, this.ends[r] as number);
  }

  runEnd(x: number): number {
    return this.ends[this.runAtOrBefore(x)] as number;
  }

  runStart(x: number): number {
    return this.starts[this.runAtOrBefore(x)] as number;
  }
}

/** Merges closed [a, b] intervals (any order, empty ones dropped) into sorted, disjoint, non-adjacent runs. */
export function mergeIntervals(intervals: readonly (readonly [number, number])[]): { starts: number[]; ends: number[] } {
  const sorted = intervals.filter(([a, b]) => b >= a).sort((x, y) => x[0] - y[0]);
  const starts: number[] = [];
  const ends: number[] = [];
  for (const [a, b] of sorted) {
    const last = ends.length - 1;
    if (last >= 0 && a <= (ends[last] as number) + 1) ends[last] = Math.max(ends[last] as number, b);
    else {
      starts.push(a);
      ends.push(b);
    }
  }
  return { starts, ends };
}

/** A finite union of closed intervals, merged into sorted, disjoint, non-adjacent runs. */
export class IntervalSet extends RunTable {
  /** `intervals` are closed [a, b] pairs in any order; empty ones (b < a) are dropped. */
  constructor(intervals: readonly (readonly [number, number])[]) {
    const { starts, ends } = mergeIntervals(intervals);
    super(starts, ends, 0, starts.length);
  }
}

/**
 * Members x of [lo, hi] with (x − phase) mod period < width: evenly spaced runs of `width` integers
 * (strides, dilations, periodic columns, diagonals repeated every frame).
 */
export class PeriodicSet implements IntSet {
  constructor(
    private readonly period: number,
    private readonly width: number,
    private readonly phase: number,
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  /** Position of x inside its period, in [0, period). */
  private offset(x: number): number {
    const m = (x - this.phase) % this.period;
    return m < 0 ? m + this.period : m;
  }

  has(x: number): boolean {
    return x >= this.lo && x <= this.hi && (this.width >= this.period || this.offset(x) < this.width);
  }

  next(x: number): number {
    if (x > this.hi) return Infinity;
    const y = Math.max(x, this.lo);
    if (this.width >= this.period) return y;
    const off = this.offset(y);
    const candidate = off < this.width ? y : y + (this.period - off);
    return candidate <= this.hi ? candidate : Infinity;
  }

  prev(x: number): number {
    if (x < this.lo) return -Infinity;
    const y = Math.min(x, this.hi);
    if (this.width >= this.period) return y;
    const off = this.offset(y);
    const candidate = off < this.width ? y : y - (off - this.width + 1);
    return candidate >= this.lo ? candidate : -Infinity;
  }

  runEnd(x: number): number {
    if (this.width >= this.period) return this.hi;
    return Math.min(this.hi, x + (this.width - 1 - this.offset(x)));
  }

  runStart(x: number): number {
    if (this.width >= this.period) return this.lo;
    return Math.max(this.lo, x - this.offset(x));
  }
}

/** The union of several sets; runs that touch across members merge. */
export class UnionSet implements IntSet {
  constructor(private readonly parts: readonly IntSet[]) {}

  has(x: number): boolean {
    for (const p of this.parts) if (p.has(x)) return true;
    return false;
  }

  next(x: number): number {
    let best = Infinity;
    for (const p of this.parts) best = Math.min(best, p.next(x));
    return best;
  }

  prev(x: number): number {
    let best = -Infinity;
    for (const p of this.parts) best = Math.max(best, p.prev(x));
    return best;
  }

  runEnd(x: number): number {
    let end = x;
    for (;;) {
      let reach = -Infinity;
      for (const p of this.parts) if (p.has(end)) reach = Math.max(reach, p.runEnd(end));
      if (!(reach >= end)) return end - 1;
      if (!this.has(reach + 1)) return reach;
      end = reach + 1;
    }
  }

  runStart(x: number): number {
    let start = x;
    for (;;) {
      let reach = Infinity;
      for (const p of this.parts) if (p.has(start)) reach = Math.min(reach, p.runStart(start));
      if (!(reach <= start)) return start + 1;
      if (!this.has(reach - 1)) return reach;
      start = reach - 1;
    }
  }
}

/** {c − x : x ∈ set}: turns a set of block distances into the key blocks of one query block. */
export class ReflectedSet implements IntSet {
  constructor(
    private readonly set: IntSet,
    private readonly center: number,
  ) {}

  has(y: number): boolean {
    return this.set.has(this.center - y);
  }
  next(y: number): number {
    return this.center - this.set.prev(this.center - y);
  }
  prev(y: number): number {
    return this.center - this.set.next(this.center - y);
  }
  runEnd(y: number): number {
    return this.center - this.set.runStart(this.center - y);
  }
  runStart(y: number): number {
    return this.center - this.set.runEnd(this.center - y);
  }
}

/** One closed interval [lo, hi] (empty when hi < lo): the cheapest set, made often in hot loops. */
export class Interval implements IntSet {
  constructor(
    private readonly lo: number,
    private readonly hi: number,
  ) {}

  has(x: number): boolean {
    return x >= this.lo && x <= this.hi;
  }
  next(x: number): number {
    if (x > this.hi || this.hi < this.lo) return Infinity;
    return Math.max(x, this.lo);
  }
  prev(x: number): number {
    if (x < this.lo || this.hi < this.lo) return -Infinity;
    return Math.min(x, this.hi);
  }
  runEnd(_x: number): number {
    return this.hi;
  }
  runStart(_x: number): number {
    return this.lo;
  }
}

/** [a, b] as a set (empty when b < a). */
export function interval(a: number, b: number): IntSet {
  return new Interval(a, b);
}

/** The empty set. */
export const EMPTY_SET: IntSet = interval(1, 0);
