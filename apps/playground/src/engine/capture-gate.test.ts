import { createReferenceBackend } from '@sparseland/core';
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
