// Core's reference backend with one op altered: the deliberately wrong (or merely fp32) backends that the kit's
// self-tests run its cases on, to prove each case catches the fault it is there for.
import { type Backend, createReferenceBackend } from '@sparseland/core';
import type { NamedBackend } from '../src/index.js';

export function alteredReference(name: string, alter: (reference: Backend) => Partial<Backend>): NamedBackend {
  return {
    name,
    create: () => {
      const reference = createReferenceBackend();
      return { ...reference, name, ...alter(reference) };
    },
  };
}

/** Pooled scores rounded to float32, as a real fp32 backend returns them: a backend every estimator must agree with. */
export const fp32Scores = alteredReference('reference with fp32 pooled scores', (reference) => ({
  async pooledScores(input, options) {
    const scores = await reference.pooledScores(input, options);
    return { ...scores, data: Float32Array.from(scores.data) };
  },
}));
