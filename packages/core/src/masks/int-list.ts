/** A growable Int32Array for building CSR index lists without per-element allocation. */
export class IntList {
  private buffer: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.buffer = new Int32Array(Math.max(4, capacity));
  }

  push(value: number): void {
    if (this.length === this.buffer.length) this.grow(this.length + 1);
    this.buffer[this.length++] = value;
  }

  /** Appends start, start+1, ..., end-1. */
  pushRange(start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (this.length + n > this.buffer.length) this.grow(this.length + n);
    const b = this.buffer;
    let at = this.length;
    for (let v = start; v < end; v++) b[at++] = v;
    this.length = at;
  }

  pushAll(values: ArrayLike<number>): void {
    const n = values.length;
    if (this.length + n > this.buffer.length) this.grow(this.length + n);
    for (let i = 0; i < n; i++) this.buffer[this.length + i] = values[i] as number;
    this.length += n;
  }

  /** A right-sized copy of the contents. */
  toArray(): Int32Array {
    return this.buffer.slice(0, this.length);
  }

  private grow(min: number): void {
    let cap = this.buffer.length * 2;
    while (cap < min) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
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
