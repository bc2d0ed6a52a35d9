import type { Rng } from '@sparseland/core/kit';

/** Index of the largest value; the first one among ties (as run.c's argmax). */
export function argmax(values: Float32Array): number {
  let best = 0;
  let max = values[0] as number;
  for (let i = 1; i < values.length; i++) {
    if ((values[i] as number) > max) {
      max = values[i] as number;
      best = i;
    }
  }
  return best;
}

/** Samples from softmax(logits / temperature) with a seeded generator. */
export function sampleWithTemperature(logits: Float32Array, temperature: number, rng: Rng): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, (logits[i] as number) / temperature);
  let sum = 0;
  const weights = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const w = Math.exp((logits[i] as number) / temperature - max);
    weights[i] = w;
    sum += w;
  }
  let r = rng.next() * sum;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i] as number;
    if (r < 0) return i;
  }
  return weights.length - 1;
}
