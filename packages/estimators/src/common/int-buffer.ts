/** A growable Int32Array whose contents can be read and rewritten in place (scratch lists in hot loops). */
export class IntBuffer {
  data: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.data = new Int32Array(Math.max(4, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = value;
  }

  clear(): void {
    this.length = 0;
  }

  /** The contents, sorted ascending, as a new array. */
  sortedCopy(): Int32Array {
    return this.data.slice(0, this.length).sort();
  }
}
