/** A box of grid coordinates: an inclusive [lo, hi] range per axis. */
export type CoordBox = [number, number][];

/**
 * Tokens laid out row-major on a grid (the last axis fastest), as NATTEN flattens images and videos. A run of
 * consecutive tokens is a union of at most 2·dims − 1 axis-aligned boxes, which is what lets a kernel block of
 * tokens be classified axis by axis.
 */
export class GridLayout {
  /** Tokens per step of each axis. */
  readonly steps: number[];

  constructor(readonly extents: readonly number[]) {
    this.steps = extents.map((_, a) => extents.slice(a + 1).reduce((x, y) => x * y, 1));
  }

  /** Coordinate of token t on axis a. */
  coord(t: number, a: number): number {
    const c = Math.floor(t / (this.steps[a] as number));
    return a === 0 ? c : c % (this.extents[a] as number);
  }

  /** The boxes whose union is the tokens [t0, t1] (inclusive), in token order. */
  boxes(t0: number, t1: number): CoordBox[] {
    const out: CoordBox[] = [];
    this.split(t0, t1, 0, [], out);
    return out;
  }

  private split(t0: number, t1: number, axis: number, prefix: CoordBox, out: CoordBox[]): void {
    const step = this.steps[axis] as number;
    const a0 = Math.floor(t0 / step);
    const a1 = Math.floor(t1 / step);
    if (axis === this.extents.length - 1) {
      out.push([...prefix, [a0, a1]]);
      return;
    }
    const r0 = t0 - a0 * step;
    const r1 = t1 - a1 * step;
    if (a0 === a1) {
      this.split(r0, r1, axis + 1, [...prefix, [a0, a0]], out);
      return;
    }
    let first = a0;
    let last = a1;
    if (r0 > 0) {
      this.split(r0, step - 1, axis + 1, [...prefix, [a0, a0]], out);
      first = a0 + 1;
    }
    if (r1 < step - 1) last = a1 - 1;
    if (first <= last) out.push([...prefix, [first, last], ...this.extents.slice(axis + 1).map((n) => [0, n - 1] as [number, number])]);
    if (r1 < step - 1) this.split(0, r1, axis + 1, [...prefix, [a1, a1]], out);
  }
}
