import { expect, it } from 'vitest';
import * as api from '../src/index.js';

// The public surface, sorted: a change here is a deliberate API change (add a changeset).
it('exposes exactly the public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'Coverage',
    'DEFAULT_PALETTE',
    'IntervalSet',
    'PeriodicSet',
    'ReflectedSet',
    'UnionSet',
    'aShape',
    'alibi',
    'alibiSlopes',
    'bigbird',
    'blockGridTerm',
    'buildTermMask',
    'buildTermSparseMask',
    'causal',
    'columnsTerm',
    'combiner',
    'diagonalTerm',
    'dilatedWindow',
    'fixed',
    'full',
    'grid',
    'longformer',
    'masformerRecipe',
    'moa',
    'neighborhood',
    'patterns',
    'powerAttention',
    'radial',
    'rasterize',
    'relativeBias',
    'renderMask',
    'rowsTerm',
    's2Attention',
    'selectiveTemperature',
    'slidingWindow',
    'sparseVdit',
    'strided',
    't5Bucket',
    'termPattern',
    'triShape',
  ]);
  expect(api.patterns.every((p) => Object.isFrozen(p) && p.kind === 'pattern')).toBe(true);
});
