import { type Backend, createHeadTensor, createReferenceBackend } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { CaptureGate, gatedBackend } from './capture-gate.js';

function seeded(heads: number, length: number, dim: number, seed: number) {
  const data = new Float32Array(heads * length * dim);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(seed * 7.1 + i * 1.3);
  return createHeadTensor(heads, length, dim, data);
}

/** Resolves after a few turns of the event loop, long enough for an ungated call on the reference backend. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('the capture gate', () => {
  const q = seeded(2, 5, 4, 1);
  const k = seeded(1, 5, 4, 2);
  const v = seeded(1, 5, 4, 3);

  // Every op of the Backend contract that computes something, with a small call on the reference backend.
  const calls: Record<string, (b: Backend) => Promise<unknown>> = {
    attend: (b) => b.attend({ q, k, v }, { causal: true }),
    decode: (b) => b.decode({ q: seeded(2, 1, 4, 4), k, v }, {}),
    pooledScores: (b) => b.pooledScores({ q, k, qOffset: 0 }, { blockQ: 2, blockK: 2 }),
    lastQueriesAttention: (b) => b.lastQueriesAttention({ q, k, qOffset: 0 }, { count: 2 }),
    quantizedScores: (b) => b.quantizedScores({ q, k, qOffset: 0 }, { bits: 8 }),
    scores: (b) => b.scores({ q, k, qOffset: 0 }, { reduce: { max: true, topK: 2 } }),
  };

  it('wraps every op of the backend', () => {
    const backend = createReferenceBackend();
    const gated = gatedBackend(backend, new CaptureGate());
    expect(Object.keys(gated).sort()).toEqual(Object.keys(backend).sort());
  });

  for (const [op, call] of Object.entries(calls)) {
    it(`${op} waits while the gate is held, then returns the backend's result`, async () => {
      const backend = createReferenceBackend();
      const gate = new CaptureGate();
      const release = gate.hold();
      let done = false;
      const pending = call(gatedBackend(backend, gate)).then((r) => {
        done = true;
        return r;
      });
      await settle();
      expect(done).toBe(false);
      release();
      expect(await pending).toEqual(await call(backend));
    });
  }
});
