import { expect, it } from 'vitest';
import * as api from './index.js';

// Changing the public surface should be a deliberate act: update this list with the changeset.
it('exposes the public api', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "PAPERS",
      "anchor",
      "biformer",
      "blockSparse",
      "blockTopk",
      "calibrateChannels",
      "channelImportance",
      "doubleSparsity",
      "doubleSparsityRecipe",
      "estimators",
      "flexprefill",
      "hip",
      "hyperattention",
      "moba",
      "reformerLsh",
      "rettentionAttention",
      "rettentionCorrection",
      "routing",
      "sea",
      "sparkTopk",
      "topChannels",
      "verticalSlash",
      "withRettention",
      "zipvl",
    ]
  `);
});

it('lists every estimator once, in a stable order, each also a named export', () => {
  const names = api.estimators.map((e) => e.name);
  expect(names).toEqual([
    'vertical-slash',
    'block-sparse',
    'flexprefill',
    'block-topk',
    'moba',
    'biformer',
    'hip',
    'hyperattention',
    'routing',
    'reformer-lsh',
    'anchor',
    'sea',
    'spark-topk',
    'double-sparsity',
    'zipvl',
  ]);
  const exported = Object.values(api).filter((v) => typeof v === 'object' && v !== null && (v as { kind?: string }).kind === 'estimator');
  expect(new Set(exported)).toEqual(new Set(api.estimators));
  expect(Object.isFrozen(api.estimators)).toBe(true);
});
