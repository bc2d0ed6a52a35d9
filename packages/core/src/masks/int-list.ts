/**
 * A growable Int32Array: CSR index lists, plan tables and scratch lists in hot loops, without per-element
 * allocation. `data` is the backing store (valid up to `length`); read it directly or take `view()`.
 */
export class IntList {
  data: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Int32Array(Math.max(4, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = value;
  }

  /** Appends four values (plan records). */
  push4(a: number, b: number, c: number, d: number): void {
    if (this.length + 4 > this.data.length) this.grow(this.length + 4);
    const x = this.data;
    const at = this.length;
    x[at] = a;
    x[at + 1] = b;
    x[at + 2] = c;
    x[at + 3] = d;
    this.length = at + 4;
  }

  /** Appends start, start+1, ..., end-1. */
  pushRange(start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.length + n > this.data.length) this.grow(this.length + n);
    const b = this.data;
    let at = this.length;
    for (let v = start; v < end; v++) b[at++] = v;
    this.length = at;
  }

  pushAll(values: ArrayLike<number>): void {
    const n = values.length;
    if (this.length + n > this.data.length) this.grow(this.length + n);
    for (let i = 0; i < n; i++) this.data[this.length + i] = values[i] as number;
    this.length += n;
  }

  /** Keeps the first `length` values (callers that compact in place keep their order). */
  truncate(length: number): void {
    this.length = Math.min(this.length, Math.max(0, length));
  }

  clear(): void {
    this.length = 0;
  }

  /** The contents without copying (valid until the next push). */
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }

  /** A right-sized copy of the contents. */
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }

  /** The contents sorted ascending, as a new array (no sort when they already are). */
  sortedCopy(): Int32Array {
    const copy = this.data.slice(0, this.length);
    for (let i = 1; i < copy.length; i++) {
      if ((copy[i] as number) < (copy[i - 1] as number)) return copy.sort();
    }
    return copy;
  }

  private grow(min: number): void {
    let cap = this.data.length * 2;
    while (cap < min) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}

/** Index of `value` in the sorted slice list[from, to), or -1. */
export function binarySearch(list: Int32Array, from: number, to: number, value: number): number {
  let lo = from;
  let hi = to - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const x = list[mid] as number;
    if (x === value) return mid;
    if (x < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** Index of the first entry >= value in the sorted slice list[from, to) (`to` when there is none). */
export function lowerBound(list: ArrayLike<number>, value: number, from = 0, to = list.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Merges two strictly increasing lists into `out` (each value once). */
export function mergeSortedUnique(a: ArrayLike<number>, b: ArrayLike<number>, out: IntList): void {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x < y) {
      out.push(x);
      i++;
    } else if (y < x) {
      out.push(y);
      j++;
    } else {
      out.push(x);
      i++;
      j++;
    }
  }
  while (i < a.length) out.push(a[i++] as number);
  while (j < b.length) out.push(b[j++] as number);
}
