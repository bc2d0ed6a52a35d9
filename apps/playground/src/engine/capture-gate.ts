import type { Backend } from '@sparseland/core';

/**
 * Lets the model's forward pass give way to what the user waits for. Work that can run now (its layer is
 * captured) holds the gate; the capture's backend calls wait until nobody holds it. The forward pass and the
 * page's requests share one thread, so without this the first overlay waits for the whole model.
 */
export class CaptureGate {
  private holds = 0;
  private waiters: (() => void)[] = [];

  /** Holds the gate until the returned function is called. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holds === 0) for (const w of this.waiters.splice(0)) w();
    };
  }

  /** Resolves once nobody holds the gate, after yielding to the event loop (work queued meanwhile gets to hold it). */
  async wait(): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.holds === 0) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/**
 * The same backend, whose every operation first waits at the gate (disposing is left to the backend's owner): the
 * attention and estimator ops, a prepared linear layer's runs and a KV store's decodes (a decode step's attention).
 */
export function gatedBackend(backend: Backend, gate: CaptureGate): Backend {
  return {
    name: backend.name,
    impl: backend.impl,
    attend: async (input, options) => {
      await gate.wait();
      return backend.attend(input, options);
    },
    decode: async (input, options) => {
      await gate.wait();
      return backend.decode(input, options);
    },
    decodePacked: async (input, options) => {
      await gate.wait();
      return backend.decodePacked(input, options);
    },
    pooledScores: async (input, options) => {
      await gate.wait();
      return backend.pooledScores(input, options);
    },
    lastQueriesAttention: async (input, options) => {
      await gate.wait();
      return backend.lastQueriesAttention(input, options);
    },
    lastQueriesSums: async (input, options) => {
      await gate.wait();
      return backend.lastQueriesSums(input, options);
    },
    quantizedScores: async (input, options) => {
      await gate.wait();
      return backend.quantizedScores(input, options);
    },
    scores: async (input, options) => {
      await gate.wait();
      return backend.scores(input, options);
    },
    prepareLinear: async (weights, shape) => {
      const prepared = await backend.prepareLinear(weights, shape);
      // The forward pass's matrix products give way too, not only its attention.
      return {
        ...shape,
        run: async (x, rows, out) => {
          await gate.wait();
          return prepared.run(x, rows, out);
        },
        dispose: () => prepared.dispose(),
      };
    },
    createKvStore: async (shape) => {
      const store = await backend.createKvStore(shape);
      return {
        kvHeads: store.kvHeads,
        dim: store.dim,
        length: (g) => store.length(g),
        append: (k, v) => store.append(k, v),
        setHead: (g, keys, values) => store.setHead(g, keys, values),
        decode: async (q, options) => {
          await gate.wait();
          return store.decode(q, options);
        },
        dispose: () => store.dispose(),
      };
    },
    dispose: async () => {},
  };
}
