// KV policies: hooks are called at the right times with the right context, selections and evictions change exactly
// which keys decode steps read (checked against the float64 oracle with the same keys).
import { createCpuBackend } from '@sparseland/backend-cpu';
import { type Backend, kvHeadOf, TokenSelection } from '@sparseland/core';
import type { KvCacheLayer, KvPolicy } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { maxAbsDiff, naiveForward } from '../../test/helpers/naive-llama.js';
import { randomTokens, syntheticWeights } from '../../test/helpers/synthetic-model.js';
import { createModel } from '../index.js';

const shape = { dim: 24, hiddenDim: 28, layers: 2, heads: 6, kvHeads: 3, vocabSize: 17, seqLen: 64 };
const weights = syntheticWeights(shape, 101);
const model = createModel(weights);
const tokens = randomTokens(26, shape.vocabSize, 12);
const PROMPT = 11;

describe('KV policy hooks', () => {
  it('afterPrefill after each layer of a prefill; select then afterAppend on every decode step', async () => {
    const log: string[] = [];
    const sessions = new Set<object>();
    const policy: KvPolicy = {
      name: 'recorder',
      afterPrefill: (cache, queries, ctx) => {
        log.push(
          `afterPrefill L${ctx.layer} step ${ctx.step} pos ${ctx.position} len ${cache.length(0)} q ${queries.heads}x${queries.length}`,
        );
      },
      select: (cache, query, ctx) => {
        log.push(`select L${ctx.layer} step ${ctx.step} pos ${ctx.position} len ${cache.length(0)} q ${query.heads}x${query.length}`);
        return undefined;
      },
      afterAppend: (cache, query, ctx) => {
        log.push(`afterAppend L${ctx.layer} step ${ctx.step} pos ${ctx.position} len ${cache.length(0)} q ${query.heads}x${query.length}`);
        sessions.add(ctx.session);
        expect(ctx.layers).toBe(2);
      },
    };
    const session = model.createSession({ kvPolicy: policy });
    await session.prefill(tokens.slice(0, 4));
    await session.step(tokens[4]!);
    await session.step(tokens[5]!);
    expect(log).toEqual([
      'afterPrefill L0 step 0 pos 3 len 4 q 6x4',
      'afterPrefill L1 step 0 pos 3 len 4 q 6x4',
      'select L0 step 1 pos 4 len 5 q 6x1',
      'afterAppend L0 step 1 pos 4 len 5 q 6x1',
      'select L1 step 1 pos 4 len 5 q 6x1',
      'afterAppend L1 step 1 pos 4 len 5 q 6x1',
      'select L0 step 2 pos 5 len 6 q 6x1',
      'afterAppend L0 step 2 pos 5 len 6 q 6x1',
      'select L1 step 2 pos 5 len 6 q 6x1',
      'afterAppend L1 step 2 pos 5 len 6 q 6x1',
    ]);
    // One session object, the same for every layer (policies share cross-layer state through it).
    expect(sessions.size).toBe(1);
  });

  const backends = [
    ['the reference backend', undefined, 2e-4],
    ['backend-cpu (its KV store mirrors the cache in WebAssembly memory)', () => createCpuBackend({ threads: 1 }), 1e-3],
  ] as const;

  it.each(backends)('a TokenSelection (sinks + recent window) limits what decode steps read: %s', async (_name, make, tol) => {
    const sinks = 2;
    const recent = 3;
    const policy: KvPolicy = {
      name: 'sink-recent-select',
      select: (cache: KvCacheLayer) => {
        const n = cache.length(0);
        const slots = [...new Set([...Array(Math.min(sinks, n)).keys(), ...Array.from({ length: recent }, (_, i) => n - 1 - i)])].filter(
          (s) => s >= 0,
        );
        return TokenSelection.fromLists(
          Array.from({ length: cache.kvHeads }, () => slots),
          n,
        );
      },
    };
    const backend: Backend | undefined = await make?.();
    const session = model.createSession({ kvPolicy: policy, backend });
    try {
      await session.prefill(tokens.slice(0, PROMPT));
      const naive = naiveForward(weights, tokens, (_l, _h, q, k) => q < PROMPT || k < sinks || q - k < recent);
      for (let t = PROMPT; t < tokens.length; t++) {
        expect(maxAbsDiff(await session.step(tokens[t]!), naive.logits[t]!)).toBeLessThan(tol);
      }
    } finally {
      await session.dispose();
      await backend?.dispose();
    }
  });

  it('a ragged eviction after prefill: decode steps and later prefill chunks read only what each head kept', async () => {
    // kv head g drops every position p < PROMPT with (p + g) % 3 === 0, except the last one.
    const dropped = (g: number, p: number) => p < PROMPT - 1 && (p + g) % 3 === 0;
    const policy: KvPolicy = {
      name: 'ragged-evict',
      afterPrefill: (cache) => {
        if (cache.length(0) !== PROMPT) return;
        for (let g = 0; g < cache.kvHeads; g++) {
          const positions = cache.positions(g);
          const slots = Int32Array.from([...positions.keys()].filter((s) => !dropped(g, positions[s]!)));
          cache.retain(g, slots);
        }
      },
    };
    const session = model.createSession({ kvPolicy: policy });
    await session.prefill(tokens.slice(0, PROMPT));
    const lengths = [0, 1, 2].map((g) => session.cache[0]!.length(g));
    expect(new Set(lengths).size).toBeGreaterThan(1);
    expect(Array.from(session.cache[1]!.positions(0))).toEqual([...Array(PROMPT).keys()].filter((p) => !dropped(0, p)));

    const keep = (_l: number, h: number, q: number, k: number) => q < PROMPT || !dropped(kvHeadOf(h, shape.heads, shape.kvHeads), k);
    const naive = naiveForward(weights, tokens, keep);
    for (let t = PROMPT; t < PROMPT + 4; t++) {
      expect(maxAbsDiff(await session.step(tokens[t]!), naive.logits[t]!)).toBeLessThan(2e-4);
    }
    // A prefill chunk after the eviction: kept slots + the chunk, causally.
    const chunk = await session.prefill(tokens.slice(PROMPT + 4), { allLogits: true });
    for (let t = PROMPT + 4; t < tokens.length; t++) {
      const row = chunk.subarray((t - PROMPT - 4) * shape.vocabSize, (t - PROMPT - 3) * shape.vocabSize);
      expect(maxAbsDiff(row, naive.logits[t]!)).toBeLessThan(2e-4);
    }
  });

  it.each(backends)('a policy that evicts on every decode step, per head: %s follows the oracle', async (_name, make, tol) => {
    // After each decode step, kv head g keeps the first 2 positions and the last 3 + g: ragged, and changing every step.
    const window = (g: number) => 3 + g;
    const policy: KvPolicy = {
      name: 'sink-window-evict',
      afterAppend: (cache) => {
        for (let g = 0; g < cache.kvHeads; g++) {
          const positions = cache.positions(g);
          const last = positions[positions.length - 1]!;
          cache.retain(g, Int32Array.from([...positions.keys()].filter((s) => positions[s]! < 2 || last - positions[s]! < window(g))));
        }
      },
    };
    const backend: Backend | undefined = await make?.();
    const session = model.createSession({ kvPolicy: policy, backend });
    try {
      await session.prefill(tokens.slice(0, PROMPT));
      const keep = (_l: number, h: number, q: number, k: number) =>
        q <= PROMPT || k < 2 || q - k <= window(kvHeadOf(h, shape.heads, shape.kvHeads));
      const naive = naiveForward(weights, tokens, keep);
      for (let t = PROMPT; t < tokens.length; t++) {
        expect(maxAbsDiff(await session.step(tokens[t]!), naive.logits[t]!)).toBeLessThan(tol);
      }
      expect([0, 1, 2].map((g) => session.cache[0]!.length(g))).toEqual([5, 6, 7]);
    } finally {
      await session.dispose();
      await backend?.dispose();
    }
  });

  it('rejects selections that do not fit the cache, naming the policy', async () => {
    const wrongLength: KvPolicy = { name: 'wrong-length', select: (cache) => TokenSelection.all(cache.kvHeads, cache.length(0) + 1) };
    const session = model.createSession({ kvPolicy: wrongLength });
    await session.prefill([1, 2]);
    await expect(session.step(3)).rejects.toThrow(/kv policy "wrong-length" must return a TokenSelection over 3 kv heads and 3 slots/);
    // The failed step left some layers updated: the session refuses to go on.
    await expect(session.step(3)).rejects.toThrow(/failed earlier/);

    const raggedSelect: KvPolicy = {
      name: 'ragged-select',
      afterPrefill: (cache) => cache.retain(0, Int32Array.of(0)),
      select: (cache) => TokenSelection.all(cache.kvHeads, cache.length(1)),
    };
    const other = model.createSession({ kvPolicy: raggedSelect });
    await other.prefill([1, 2, 3]);
    await expect(other.step(4)).rejects.toThrow(
      /kv policy "ragged-select" selected slot 3 of kv head 0 in layer 0, which holds only 2 slots/,
    );
  });

  it.each(backends)('a selection over a ragged cache reads, per head, only selected slots it holds: %s', async (_name, make, tol) => {
    // kv head 0 keeps every other prompt position; every head then reads only its last 4 slots.
    const policy: KvPolicy = {
      name: 'ragged-then-select',
      afterPrefill: (cache) =>
        cache.retain(
          0,
          Int32Array.from({ length: Math.ceil(PROMPT / 2) }, (_, i) => 2 * i),
        ),
      select: (cache) =>
        TokenSelection.fromLists(
          Array.from({ length: cache.kvHeads }, (_, g) => Array.from({ length: 4 }, (_, i) => cache.length(g) - 1 - i)),
          Math.max(...Array.from({ length: cache.kvHeads }, (_, g) => cache.length(g))),
        ),
    };
    const backend: Backend | undefined = await make?.();
    const session = model.createSession({ kvPolicy: policy, backend });
    await session.prefill(tokens.slice(0, PROMPT));
    const heldBy = (g: number, k: number) => g !== 0 || k >= PROMPT || k % 2 === 0;
    for (let t = PROMPT; t < PROMPT + 3; t++) {
      // Positions held by the head, newest 4 of them.
      const keep = (_l: number, h: number, q: number, k: number) => {
        if (q < PROMPT) return true;
        const g = kvHeadOf(h, shape.heads, shape.kvHeads);
        if (!heldBy(g, k)) return false;
        let newer = 0;
        for (let j = k + 1; j <= q; j++) if (heldBy(g, j)) newer++;
        return newer < 4;
      };
      const naive = naiveForward(weights, tokens.slice(0, t + 1), keep);
      expect(maxAbsDiff(await session.step(tokens[t]!), naive.logits[t]!)).toBeLessThan(tol);
    }
    await session.dispose();
    await backend?.dispose();
  });

  it.each(backends)(
    'packed slots are read by backend.decodePacked exactly as the dequantised cache reads them: %s',
    async (_name, make, tol) => {
      const backend: Backend | undefined = await make?.();
      const pack = (bits: 2 | 4 | 8): KvPolicy => ({
        name: `pack-${bits}`,
        afterPrefill: (cache) => {
          for (let g = 0; g < cache.kvHeads; g++) {
            cache.pack(
              g,
              Int32Array.from({ length: PROMPT - 3 }, (_, i) => i),
              { bits, keyGroup: 4, valueGroup: 4 },
            );
          }
        },
      });
      // The same packing, but decode forced through the dequantised gather path (a selection of every slot).
      const viaGather = (bits: 2 | 4 | 8): KvPolicy => ({
        ...pack(bits),
        select: (cache) => TokenSelection.all(cache.kvHeads, cache.length(0)),
      });
      for (const bits of [2, 4, 8] as const) {
        const a = model.createSession({ kvPolicy: pack(bits), backend });
        const b = model.createSession({ kvPolicy: viaGather(bits), backend });
        await a.prefill(tokens.slice(0, PROMPT));
        await b.prefill(tokens.slice(0, PROMPT));
        expect(a.cache[0]!.packedLength(1)).toBe(PROMPT - 3);
        expect(a.cache[0]!.bytes()).toBeLessThan(b.cache[0]!.bytes() + 1);
        for (let t = PROMPT; t < PROMPT + 3; t++) {
          expect(maxAbsDiff(await a.step(tokens[t]!), await b.step(tokens[t]!))).toBeLessThan(tol / 2);
        }
        await a.dispose();
        await b.dispose();
      }
      // 8-bit codes are close to the full cache.
      const full = naiveForward(weights, tokens, () => true);
      const s8 = model.createSession({ kvPolicy: pack(8), backend });
      await s8.prefill(tokens.slice(0, PROMPT));
      expect(maxAbsDiff(await s8.step(tokens[PROMPT]!), full.logits[PROMPT]!)).toBeLessThan(0.05);
      await s8.dispose();
      await backend?.dispose();
    },
  );
});
