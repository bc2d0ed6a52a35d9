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
      afterAppend: (cache, ctx) => {
        log.push(`afterAppend L${ctx.layer} step ${ctx.step} pos ${ctx.position} len ${cache.length(0)}`);
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
      'afterAppend L0 step 1 pos 4 len 5',
      'select L1 step 1 pos 4 len 5 q 6x1',
      'afterAppend L1 step 1 pos 4 len 5',
      'select L0 step 2 pos 5 len 6 q 6x1',
      'afterAppend L0 step 2 pos 5 len 6',
      'select L1 step 2 pos 5 len 6 q 6x1',
      'afterAppend L1 step 2 pos 5 len 6',
    ]);
  });

  it('a TokenSelection (sinks + recent window) limits what decode steps read', async () => {
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
    const session = model.createSession({ kvPolicy: policy });
    await session.prefill(tokens.slice(0, PROMPT));
    const naive = naiveForward(weights, tokens, (_l, _h, q, k) => q < PROMPT || k < sinks || q - k < recent);
    for (let t = PROMPT; t < tokens.length; t++) {
      expect(maxAbsDiff(await session.step(tokens[t]!), naive.logits[t]!)).toBeLessThan(2e-4);
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

  it.each([
    ['the reference backend', undefined, 2e-4],
    ['backend-cpu (its KV store mirrors the cache in WebAssembly memory)', () => createCpuBackend({ threads: 1 }), 1e-3],
  ] as const)('a policy that evicts on every decode step, per head: %s follows the oracle', async (_name, make, tol) => {
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
    await expect(other.step(4)).rejects.toThrow(/different numbers of slots/);
  });
});
