import { attentionRecall, countKeptPairs, createReferenceBackend, type EstimatorPlugin, type SparseMask } from '@sparseland/core';
import type { OnBackendCase } from './case.js';
import { type EstimatorCaseOptions, PLANTED_SHAPE, plantedInputs, runEstimator } from './estimator-cases.js';
import { DECISION_TOLERANCE, type DecisionTolerance } from './tolerance.js';

export interface EstimatorAgreementOptions extends Pick<EstimatorCaseOptions, 'plantedParams' | 'seed'> {
  /** How far the decisions may be from the reference's (default DECISION_TOLERANCE). */
  readonly tolerance?: Partial<DecisionTolerance>;
}

/**
 * The cross-backend case of an estimator: on the kit's planted input (PLANTED_SHAPE, the planted parameters), the
 * estimator run on the given backend makes the decisions it makes on core's float64 reference backend: the same
 * density and attention recall within the tolerance, and the same estimation FLOPs. An estimator that does its
 * heavy work through `ctx.backend` passes it on every backend that passes `describeBackend`.
 */
export function estimatorAgreementCases(plugin: EstimatorPlugin, options: EstimatorAgreementOptions = {}): OnBackendCase[] {
  const tolerance: DecisionTolerance = { ...DECISION_TOLERANCE, ...options.tolerance };
  const shape = PLANTED_SHAPE;
  return [
    {
      name: `on planted structure, makes the reference backend's decisions (density ±${tolerance.density}, recall ±${tolerance.recall}, ${tolerance.flopsRel === 0 ? 'the same FLOPs' : `FLOPs ±${tolerance.flopsRel} relative`})`,
      async run(backend) {
        const input = plantedInputs(shape, 5);
        const params = options.plantedParams ?? {};
        const call = { causal: true, blockQ: shape.blockQ, blockK: shape.blockK, seed: options.seed ?? 7 };
        const reference = createReferenceBackend();
        const want = await runEstimator(plugin, params, input, { ...call, backend: reference });
        await reference.dispose();
        const got = await runEstimator(plugin, params, input, { ...call, backend });
        const geometry = { heads: shape.qHeads, qLength: shape.qLength, kvLength: shape.kvLength, qOffset: 0 };
        const density = (mask: SparseMask) => {
          const { kept, total } = countKeptPairs(mask, geometry, { causal: true });
          return kept / total;
        };
        const rows = Array.from({ length: 32 }, (_, r) => Math.floor(((r + 0.5) * shape.qLength) / 32));
        const recall = (mask: SparseMask) => attentionRecall(input, mask, { rows }).mean;
        const where = `${plugin.name} on ${backend.name}`;
        const [d, dRef] = [density(got.mask), density(want.mask)];
        if (!(Math.abs(d - dRef) <= tolerance.density))
          throw new Error(`${where}: density ${d.toFixed(4)}, ${dRef.toFixed(4)} on the reference (allowed ±${tolerance.density})`);
        const [r, rRef] = [recall(got.mask), recall(want.mask)];
        if (!(Math.abs(r - rRef) <= tolerance.recall))
          throw new Error(`${where}: recall ${r.toFixed(4)}, ${rRef.toFixed(4)} on the reference (allowed ±${tolerance.recall})`);
        const [f, fRef] = [got.cost.total, want.cost.total];
        if (!(Math.abs(f - fRef) <= tolerance.flopsRel * Math.abs(fRef)))
          throw new Error(`${where}: ${f} estimation FLOPs, ${fRef} on the reference (allowed relative difference ${tolerance.flopsRel})`);
      },
    },
  ];
}
