import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK_PATTERNS, shapeArb, sizesArb } from './arbitraries.js';
import { checkAgainstOracle, denseOf } from './oracle.js';

// The fast builder must agree with FlexAttention's create_block_mask on the MaskMod: the same pairs, and the same
// full / partial / empty state for every block (so kernels skip per-element tests exactly where they can).
describe('fast builder ≡ createBlockMask(maskMod) on random shapes and block sizes', () => {
  for (const [plugin, paramsArb] of MASK_PATTERNS) {
    it(plugin.name, () => {
      fc.assert(
        fc.property(paramsArb, shapeArb, sizesArb, (params, shape, sizes) => {
          const failure = checkAgainstOracle(plugin, params, shape, sizes);
          expect(
            failure,
            `params ${JSON.stringify(params)}, shape ${JSON.stringify(shape)}, blocks ${JSON.stringify(sizes)}`,
          ).toBeUndefined();
        }),
        { numRuns: 150, seed: 20250101 },
      );
    });
  }
});

describe('patterns that declare themselves causal never look ahead', () => {
  for (const [plugin, paramsArb] of MASK_PATTERNS) {
    it(plugin.name, () => {
      fc.assert(
        fc.property(paramsArb, shapeArb, (params, shape) => {
          const instance = plugin.build(plugin.parseParams(params));
          if (!instance.causal) return;
          const dense = denseOf(instance.maskMod?.(shape) ?? (() => false), shape);
          let lookAhead: string | undefined;
          for (let h = 0; h < shape.heads && !lookAhead; h++) {
            for (let i = 0; i < shape.qLength && !lookAhead; i++) {
              for (let k = shape.qOffset + i + 1; k < shape.kvLength; k++) {
                if (dense[(h * shape.qLength + i) * shape.kvLength + k]) lookAhead = `head ${h} query ${shape.qOffset + i} keeps key ${k}`;
              }
            }
          }
          expect(lookAhead, `params ${JSON.stringify(params)}, shape ${JSON.stringify(shape)}`).toBeUndefined();
        }),
        { numRuns: 60, seed: 7 },
      );
    });
  }
});

describe('default parameters on a mid-size chunked call agree with createBlockMask too', () => {
  // Big windows and blocks only show their borders on longer sequences: 1100 queries after 900 cached keys.
  const shape = { heads: 2, qLength: 1100, kvLength: 2000, qOffset: 900, layer: 1 };
  for (const [plugin] of MASK_PATTERNS) {
    it(plugin.name, () => {
      const params = plugin.name === 'radial' ? { tokensPerFrame: 160 } : {};
      expect(checkAgainstOracle(plugin, params, shape, { blockQ: 128, blockK: 96 })).toBeUndefined();
    });
  }
});
