// describePattern on small correct patterns, and each pattern case catching the fault it is there for.
import { BlockMask, createReferenceBackend, definePattern, type PatternPlugin } from '@sparseland/core';
import { buildBlockMask } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { budgetDirectionCase, describePattern, metadataCase, patternBackendCases, patternCases, REFERENCE_BACKEND } from '../src/index.js';
import { alteredReference } from './altered-backends.js';

// A causal window with only its MaskMod (core builds the BlockMask), to exercise describePattern.
const causalWindow = definePattern({
  name: 'kit-window',
  summary: 'A causal window, used to test the conformance kit itself.',
  paper: { title: 'Longformer: The Long-Document Transformer', year: 2020, url: 'https://arxiv.org/abs/2004.05150' },
  params: z.object({ window: z.number().int().min(1).default(5) }).strict(),
  budget: { param: 'window', denser: 'higher' },
  build: ({ window }) => ({
    causal: true,
    maskMod: () => (_h, q, k) => k <= q && q - k < window,
  }),
});
describePattern(causalWindow, { paramSets: [{ window: 1 }, { window: 33 }] });

// A bias with no mask, non-causal: exercises the scoreMod path of the backend case.
const distanceBias = definePattern({
  name: 'kit-distance-bias',
  summary: 'Subtracts a slope times the distance from every score, used to test the conformance kit itself.',
  paper: { title: 'Train Short, Test Long: Attention with Linear Biases', year: 2021, url: 'https://arxiv.org/abs/2108.12409' },
  params: z.object({ slope: z.number().default(0.25) }).strict(),
  budget: 'none',
  build: ({ slope }) => ({ causal: false, scoreMod: () => (s, _h, q, k) => s - slope * Math.abs(q - k) }),
});
describePattern(distanceBias, { backends: [REFERENCE_BACKEND, { name: 'a second reference', create: () => createReferenceBackend() }] });

/** The window with a hand-written fast builder whose block rule `faulty` may break. */
function windowWithBuilder(name: string, faulty: { lookAhead?: boolean; edge?: boolean; flaky?: boolean } = {}): PatternPlugin {
  let calls = 0;
  return definePattern({
    ...causalWindow,
    name,
    build: ({ window }: { window: number }) => {
      const keep = (_h: number, q: number, k: number) => (faulty.lookAhead ? k <= q + 1 : k <= q) && q - k < window;
      return {
        causal: true,
        maskMod: () => keep,
        mask: (shape, { blockQ, blockK }) => ({
          blocks: buildBlockMask(shape, { blockQ, blockK }, { heads: 1, maskMod: keep }, (_h, qb, _full, partial) => {
            const first = shape.qOffset + qb * blockQ;
            const last = Math.min(shape.kvLength - 1, shape.qOffset + Math.min(shape.qLength, (qb + 1) * blockQ) - 1 + 1);
            // The edge fault forgets the key block where the window starts.
            const start = Math.floor(Math.max(0, first - window + 1) / blockK) + (faulty.edge ? 1 : 0);
            if (faulty.flaky && calls++ % 2 === 1) return;
            for (let kb = start; kb * blockK <= last; kb++) partial.push(kb);
          }),
        }),
      };
    },
  });
}

async function failures(cases: { name: string; run(): Promise<void> }[]): Promise<string[]> {
  const messages: string[] = [];
  for (const c of cases) await c.run().catch((error: Error) => messages.push(error.message));
  return messages;
}

describe('pattern cases catch faulty patterns', () => {
  it('a correct hand-written builder passes', async () => {
    expect(await failures(patternCases(windowWithBuilder('kit-window-built'), { paramSets: [{ window: 3 }, { window: 20 }] }))).toEqual([]);
  });

  it('a builder that forgets the block where the window starts', async () => {
    const [message] = await failures(patternCases(windowWithBuilder('kit-window-edge', { edge: true }), { paramSets: [{ window: 20 }] }));
    expect(message).toMatch(/fast builder says 0, maskMod says 1/);
  });

  it('a pattern that declares itself causal and keeps the next key', async () => {
    const [message] = await failures(patternCases(windowWithBuilder('kit-window-ahead', { lookAhead: true })));
    expect(message).toMatch(/declares causal but keeps key \d+ for query \d+/);
  });

  it('a builder that gives another mask the second time', async () => {
    const [message] = await failures(patternCases(windowWithBuilder('kit-window-flaky', { flaky: true })));
    expect(message).toMatch(/another mask the second time/);
  });

  it('a pattern with neither a MaskMod nor a ScoreMod', async () => {
    const nothing = definePattern({ ...causalWindow, name: 'kit-nothing', build: () => ({ causal: true }) });
    const [message] = await failures(patternCases(nothing));
    expect(message).toMatch(/at least have a scoreMod/);
  });

  it('metadata: a name that is not kebab-case, no paper, or no budget declaration', async () => {
    await expect(metadataCase({ ...causalWindow, name: 'Kit Window' } as PatternPlugin, 'pattern').run()).rejects.toThrow(/kebab-case/);
    await expect(metadataCase({ ...causalWindow, paper: undefined } as PatternPlugin, 'pattern').run()).rejects.toThrow(/paper/);
    await expect(metadataCase({ ...causalWindow, budget: undefined } as PatternPlugin, 'pattern').run()).rejects.toThrow(
      /declares no budget/,
    );
  });

  it('budget: the declared knob turns the declared way (a window that says smaller is denser fails)', async () => {
    await budgetDirectionCase(causalWindow, { values: [4, 32] }).run();
    const backwards = { ...causalWindow, budget: { param: 'window', denser: 'lower' } } as PatternPlugin;
    await expect(budgetDirectionCase(backwards, { values: [4, 32] }).run()).rejects.toThrow(/says a lower window is denser/);
    await expect(budgetDirectionCase(distanceBias, { values: [0, 1] }).run()).rejects.toThrow(/declares no budget knob/);
    await expect(budgetDirectionCase(causalWindow, { values: [32, 4] }).run()).rejects.toThrow(/must increase/);
  });
});

describe('the backend case of a pattern catches backends that run its mask wrongly', () => {
  const runOn = async (named: ReturnType<typeof alteredReference>, plugin: PatternPlugin) => {
    const backend = await named.create();
    try {
      for (const c of patternBackendCases(plugin)) await c.run(backend);
    } finally {
      await backend.dispose();
    }
  };

  it('a backend that ignores partial blocks (keeps them whole)', async () => {
    const whole = alteredReference('partial blocks kept whole', (reference) => ({
      attend: (input, options = {}) => {
        const blocks = options.mask?.blocks;
        if (!blocks) return reference.attend(input, options);
        const whole = new BlockMask({
          ...blocks.shape,
          blockQ: blocks.blockQ,
          blockK: blocks.blockK,
          full: blocks.full,
          partial: blocks.partial,
          maskMod: () => true,
        });
        return reference.attend(input, { ...options, mask: { blocks: whole } });
      },
    }));
    await expect(runOn(whole, causalWindow)).rejects.toThrow(/output\[\d+\]|lse\[\d+\]/);
  });

  it('a backend that drops the ScoreMod', async () => {
    const noBias = alteredReference('no score mod', (reference) => ({
      attend: (input, options = {}) => reference.attend(input, { ...options, scoreMod: undefined }),
    }));
    await expect(runOn(noBias, distanceBias)).rejects.toThrow(/output\[\d+\]/);
  });

  it('a backend that ignores the mask altogether', async () => {
    const dense = alteredReference('mask ignored', (reference) => ({
      attend: (input, options = {}) => reference.attend(input, { ...options, mask: undefined }),
    }));
    await expect(runOn(dense, causalWindow)).rejects.toThrow(/output\[\d+\]|lse\[\d+\]/);
  });
});
