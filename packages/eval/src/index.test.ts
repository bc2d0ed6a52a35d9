import { expect, it } from 'vitest';
import * as api from './index.js';

// Changing the public surface should be a deliberate act: update this list with the changeset.
it('exposes the public api', () => {
  expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
    [
      "DEFAULT_STRUCTURE",
      "DEFAULT_SWEEP_DENSITIES",
      "FIXTURE_DEFAULTS",
      "FIXTURE_MODELS",
      "FIXTURE_TEXTS",
      "WORKLOAD_LIMITS",
      "allocate",
      "budgetParam",
      "collectItems",
      "computeDenseOracle",
      "defaultCandidates",
      "defaultRowCount",
      "densityRecallSpec",
      "densityRecallSvg",
      "eachItem",
      "endToEnd",
      "evaluateMethods",
      "findMethod",
      "formatEndToEnd",
      "formatEvalReport",
      "formatHeads",
      "formatTable",
      "formatValue",
      "lazyItems",
      "lengthLabel",
      "loadFixtureModel",
      "matchDensity",
      "measureItem",
      "mergeReports",
      "methodNames",
      "mqarWorkload",
      "paretoFront",
      "passageTokens",
      "readFixtureText",
      "realTraceWorkload",
      "renderVegaLite",
      "sampleRows",
      "searchRecipe",
      "speedSpec",
      "speedSvg",
      "speedVsLength",
      "sweep",
      "syntheticWorkload",
      "workloadSize",
    ]
  `);
});
