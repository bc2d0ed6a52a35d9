/** A growable Int32Array whose contents can be read and rewritten in place (scratch lists in hot loops). */
export class IntBuffer {
  data: Int32Array;
  length = 0;
  /** False once a pushed value was smaller than the one before (so `sortedCopy` can skip the sort). */
  private ascending = true;

  constructor(capacity = 64) {
    this.data = new Int32Array(Math.max(4, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    if (this.length > 0 && value < (this.data[this.length - 1] as number)) this.ascending = false;
    this.data[this.length++] = value;
  }

  /** Keeps the first `length` values (callers that compact in place keep their order). */
  truncate(length: number): void {
    this.length = length;
  }

  clear(): void {
    this.length = 0;
    this.ascending = true;
  }

  /** The contents, sorted ascending, as a new array. */
  sortedCopy(): Int32Array {
    const copy = this.data.slice(0, this.length);
    return this.ascending ? copy : copy.sort();
  }
}
