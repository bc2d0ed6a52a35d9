/** Jensen–Shannon divergence (natural log) of two distributions given as non-negative arrays (normalised here). */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i] as number;
    sq += q[i] as number;
  }
  if (sp <= 0 || sq <= 0) return Math.log(2);
  let kp = 0;
  let kq = 0;
  for (let i = 0; i < p.length; i++) {
    const a = (p[i] as number) / sp;
    const b = (q[i] as number) / sq;
    // a / m written as 2a / (a + b): halving a subnormal sum can round m to 0 and give a / m = Infinity.
    const sum = a + b;
    if (a > 0) kp += a * Math.log((2 * a) / sum);
    if (b > 0) kq += b * Math.log((2 * b) / sum);
  }
  return Math.max(0, (kp + kq) / 2);
}

/** Row softmax of scores[from, to) into out[from, to); -Infinity entries get 0. */
export function softmaxInto(scores: ArrayLike<number>, from: number, to: number, out: Float64Array): void {
  let max = -Infinity;
  for (let i = from; i < to; i++) if ((scores[i] as number) > max) max = scores[i] as number;
  if (max === -Infinity) {
    out.fill(0, from, to);
    return;
  }
  let sum = 0;
  for (let i = from; i < to; i++) {
    const e = Math.exp((scores[i] as number) - max);
    out[i] = e;
    sum += e;
  }
  for (let i = from; i < to; i++) out[i] = (out[i] as number) / sum;
}
