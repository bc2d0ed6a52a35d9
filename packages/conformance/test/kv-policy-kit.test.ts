// describeKvPolicy on a small correct policy, and each KV-policy case catching the fault it is there for.
import { defineKvPolicy, TokenSelection } from '@sparseland/core';
import type { KvCacheLayer, KvPolicy } from '@sparseland/core/kit';
import { describe, it } from 'vitest';
import { z } from 'zod';
import { describeKvPolicy, type KvPolicyCase, kvPolicyCases } from '../src/index.js';

const keepNewest = (cache: KvCacheLayer, keep: number) => {
  for (let g = 0; g < cache.kvHeads; g++) {
    const n = cache.length(g);
    if (n > keep)
      cache.retain(
        g,
        Int32Array.from({ length: keep }, (_, i) => n - keep + i),
      );
  }
};

/** A correct toy policy: a sliding window of `keep` tokens per kv head. */
const window = defineKvPolicy({
  name: 'toy-window',
  summary: 'Keeps the newest `keep` tokens.',
  paper: { title: 'Longformer: The Long-Document Transformer', year: 2020, url: 'https://arxiv.org/abs/2004.05150' },
  params: z.object({ keep: z.number().int().min(1).default(16) }).strict(),
  build: ({ keep }): KvPolicy => ({
    name: 'toy-window',
    afterPrefill: (cache) => keepNewest(cache, keep),
    afterAppend: (cache) => keepNewest(cache, keep),
    budget: (cache) => ({ slots: keep * cache.kvHeads }),
  }),
});

describeKvPolicy(window, { paramSets: [{ keep: 3 }], badParams: [{ keep: 0 }] });

function variant(name: string, build: (keep: number) => KvPolicy, params: z.ZodType = window.params) {
  return defineKvPolicy({ ...window, name, params, build: ({ keep }: { keep: number }) => build(keep) } as never);
}

async function failing(cases: KvPolicyCase[], match: RegExp): Promise<string> {
  const messages: string[] = [];
  for (const c of cases) {
    try {
      await c.run();
    } catch (error) {
      messages.push((error as Error).message);
    }
  }
  const hit = messages.find((m) => match.test(m));
  if (!hit) throw new Error(`no case failed with ${match}; failures: ${JSON.stringify(messages.map((m) => m.slice(0, 160)))}`);
  return hit;
}

describe('KV-policy cases catch faulty policies', () => {
  it('the correct policy passes every case', async () => {
    for (const c of kvPolicyCases(window, { paramSets: [{ keep: 2 }] })) await c.run();
  });

  it('dropping the newest token', async () => {
    const broken = variant('drops-newest', (keep) => ({
      name: 'drops-newest',
      afterAppend: (cache) => {
        for (let g = 0; g < cache.kvHeads; g++)
          cache.retain(
            g,
            Int32Array.from({ length: Math.min(keep, cache.length(g) - 1) }, (_, i) => i),
          );
      },
    }));
    await failing(kvPolicyCases(broken), /dropped the newest token/);
  });

  it('holding more than the budget it reports', async () => {
    const broken = variant('over-budget', (keep) => ({
      name: 'over-budget',
      afterAppend: (cache) => keepNewest(cache, keep + 1),
      budget: (cache) => ({ slots: keep * cache.kvHeads }),
    }));
    await failing(kvPolicyCases(broken), /holds \d+ slots over its kv heads, budget/);
  });

  it('selections that leave out the newest token, read slots the cache does not hold, or exceed the budget', async () => {
    const oldOnly = variant('old-only', () => ({
      name: 'old-only',
      select: (cache) =>
        TokenSelection.fromLists(
          Array.from({ length: cache.kvHeads }, () => [0]),
          cache.length(0),
        ),
    }));
    await failing(kvPolicyCases(oldOnly), /selection leaves out the newest token/);
    const wide = variant('wide', () => ({
      name: 'wide',
      select: (cache) => TokenSelection.all(cache.kvHeads, cache.length(0) + 1),
    }));
    await failing(kvPolicyCases(wide), /selection over \d+ kv heads and \d+ slots; the cache has/);
    const greedy = variant('greedy', (keep) => ({
      name: 'greedy',
      select: (cache) => TokenSelection.all(cache.kvHeads, cache.length(0)),
      budget: (cache) => ({ selected: keep * cache.kvHeads }),
    }));
    await failing(kvPolicyCases(greedy), /selected \d+ slots, budget/);
  });

  it('rows that no longer hold what was written at their position', async () => {
    const scribbler = variant('scribbler', () => ({
      name: 'scribbler',
      afterPrefill: (cache) => {
        cache.keys(0)[0] = 1e3;
      },
    }));
    await failing(kvPolicyCases(scribbler), /slot 0 \(position 0\) channel 0 reads 1000/);
  });

  it('non-determinism and state shared between sessions', async () => {
    let calls = 0;
    const random = variant('random', () => ({
      name: 'random',
      afterAppend: (cache) => keepNewest(cache, 5 + (calls++ % 7)),
    }));
    await failing(kvPolicyCases(random), /two runs differ/);
    const shared = variant('shared', (keep) => {
      // One counter for every cache and session: the second session sees the first one's steps.
      let steps = 0;
      return { name: 'shared', afterAppend: (cache) => keepNewest(cache, keep + (steps++ % 3)) };
    });
    await failing(kvPolicyCases(shared), /interleaved sessions differ from separate runs/);
  });

  it('bad parameters accepted, or refused without a coded error', async () => {
    const loose = variant(
      'loose',
      (keep) => ({ name: 'loose', afterAppend: (cache) => keepNewest(cache, keep) }),
      z.object({ keep: z.number().default(16) }),
    );
    await failing(kvPolicyCases(loose), /\{"notAParameter":1\} was accepted/);
    const crashes = defineKvPolicy({
      ...window,
      name: 'crashes',
      build: ({ keep }) => {
        if (keep > 100) throw new Error('too big');
        return window.build({ keep });
      },
    });
    await failing(kvPolicyCases(crashes, { badParams: [{ keep: 1000 }] }), /threw too big, expected a SparselandError E_PARAMS/);
  });

  it('metadata without a paper', async () => {
    const anonymous = defineKvPolicy({ ...window, name: 'anonymous', paper: undefined });
    await failing(kvPolicyCases(anonymous), /the paper must have a title and an http\(s\) URL/);
  });
});
