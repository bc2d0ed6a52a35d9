import type { Gradients } from '../models/gate-model.js';

/** Adam (Kingma & Ba 2015) over named float32 tensors, with PyTorch's defaults β = (0.9, 0.999), ε = 1e-8. */
export class Adam {
  private readonly m: Record<string, Float64Array> = {};
  private readonly v: Record<string, Float64Array> = {};
  private t = 0;

  constructor(
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly eps = 1e-8,
  ) {}

  /** One update of every tensor that has a gradient: θ ← θ − lr · m̂ / (√v̂ + ε). */
  step(params: Readonly<Record<string, { data: Float32Array }>>, grads: Gradients, lr: number): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t;
    const c2 = 1 - this.beta2 ** this.t;
    for (const [name, g] of Object.entries(grads)) {
      const p = params[name]?.data;
      if (!p) continue;
      let m = this.m[name];
      let v = this.v[name];
      if (!m || !v) {
        m = this.m[name] = new Float64Array(p.length);
        v = this.v[name] = new Float64Array(p.length);
      }
      for (let i = 0; i < p.length; i++) {
        const gi = g[i] as number;
        const mi = this.beta1 * (m[i] as number) + (1 - this.beta1) * gi;
        const vi = this.beta2 * (v[i] as number) + (1 - this.beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = (p[i] as number) - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + this.eps);
      }
    }
  }
}
