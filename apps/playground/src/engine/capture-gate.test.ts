import { type Backend, createHeadTensor, createReferenceBackend } from '@sparseland/core';
import { loadFixtureModel } from '@sparseland/eval';
import { describe, expect, it } from 'vitest';
import { CaptureGate, gatedBackend } from './capture-gate.js';

describe('gatedBackend', () => {
  it('runs a model session (prefill and decode steps) exactly as the backend it wraps', async () => {
    const { model } = await loadFixtureModel('stories260K');
    const backend = createReferenceBackend();
    const gate = new CaptureGate();
    const tokens = [1, 400, 300, 200, 100, 50];
    const run = async (gated: boolean): Promise<Float32Array[]> => {
      const session = model.createSession({ backend: gated ? gatedBackend(backend, gate) : backend });
      const logits = [await session.prefill(tokens)];
      for (const t of [7, 8, 9]) logits.push(await session.step(t));
      await session.dispose();
      return logits;
    };
    expect(await run(true)).toEqual(await run(false));
    await backend.dispose();
  });

  it('holds every attention call until the gate is released', async () => {
    const backend = createReferenceBackend();
    const gate = new CaptureGate();
    const release = gate.hold();
    const q = { data: new Float32Array(4).fill(1), heads: 1, length: 1, dim: 4 };
    let done = false;
    const call = gatedBackend(backend, gate)
      .decode({ q, k: q, v: q })
      .then(() => {
        done = true;
      });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    release();
    await call;
    expect(done).toBe(true);
    await backend.dispose();
  });
  it('holds a KV store decode and a prepared linear run until the gate is released, as the attention ops', async () => {
    const backend = createReferenceBackend();
    const gate = new CaptureGate();
    const gated = gatedBackend(backend, gate);
    const q = { data: new Float32Array(4).fill(1), heads: 1, length: 1, dim: 4 };
    const store = await gated.createKvStore({ kvHeads: 1, dim: 4 });
    await store.append(q, q);
    const linear = await gated.prepareLinear(new Float32Array(8).fill(1), { outDim: 2, inDim: 4 });
    const release = gate.hold();
    const done: string[] = [];
    const calls = [
      store.decode(q).then(() => done.push('decode')),
      linear.run(new Float32Array(4).fill(1), 1).then(() => done.push('linear')),
    ];
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toEqual([]);
    release();
    await Promise.all(calls);
    expect(done.sort()).toEqual(['decode', 'linear']);
    expect(store.length(0)).toBe(1);
    store.dispose();
    linear.dispose();
    await backend.dispose();
  });
});

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
    lastQueriesSums: (b) => b.lastQueriesSums({ q, k, qOffset: 0 }, { count: 2 }),
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
