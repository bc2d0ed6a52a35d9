/** A growable Int32Array for plan tables (no per-element allocation while planning). */
export class IntBuffer {
  data: Int32Array;
  length = 0;

  constructor(capacity = 256) {
    this.data = new Int32Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = value;
  }

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

  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }

  private grow(min: number): void {
    let cap = this.data.length * 2;
    while (cap < min) cap *= 2;
    const next = new Int32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}
