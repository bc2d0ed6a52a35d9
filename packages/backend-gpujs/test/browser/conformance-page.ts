// Browser page for the conformance kit: runs the framework-free cases (no vitest in the page) in the gpu.js modes
// given in the page's URL-free `MODES` list and returns pass / fail / excluded per case. The Node-side test turns
// each entry into one vitest test.

import { allBackendCases, type CaseOutcome, FP32_TOLERANCE, firstMismatch, runCases, type Tolerance } from '@sparseland/conformance/cases';
import { randomHeadTensor, referenceAttention } from '@sparseland/core';
import { modeConformance } from '../../src/conformance.js';
import { createGpujsBackend, type GpujsMode } from '../../src/index.js';

export interface ModeOutcome {
  readonly mode: GpujsMode;
  /** The mode that ran, or undefined when the backend could not be created. */
  readonly impl?: string;
  readonly error?: string;
  readonly fallbacks?: readonly string[];
  readonly cases: readonly CaseOutcome[];
}

const MODES: readonly GpujsMode[] = ['webgl2', 'webgpu'];

export async function run(): Promise<ModeOutcome[]> {
  const outcomes: ModeOutcome[] = [];
  for (const mode of MODES) outcomes.push(await runMode(mode));
  return outcomes;
}

async function runMode(mode: GpujsMode): Promise<ModeOutcome> {
  let backend: Awaited<ReturnType<typeof createGpujsBackend>>;
  try {
    backend = await createGpujsBackend({ mode });
  } catch (error) {
    return { mode, error: String(error), cases: [] };
  }
  const { tolerance, filters } = modeConformance(mode);
  const tol: Tolerance = { ...FP32_TOLERANCE, ...tolerance };
  const cases: CaseOutcome[] = [
    ...(await runCases(allBackendCases(), (c) => c.run(backend, tol), filters)),
    ...(await runCases([{ name: PACKED_GRID_CASE }], () => packedGridCase(backend, tol), filters)),
  ];
  const fallbacks = backend.fallbacks();
  await backend.dispose();
  return { mode, impl: backend.impl, fallbacks, cases };
}

/** Beyond the kit: a call whose score grid and output exceed 8,192 rows (WebGL2's texture side on SwiftShader). */
export const PACKED_GRID_CASE = 'attend: 8,200 query rows (outputs packed past the texture limit)';

async function packedGridCase(backend: Awaited<ReturnType<typeof createGpujsBackend>>, tol: Tolerance): Promise<void> {
  const q = randomHeadTensor({ heads: 1, length: 8200, dim: 4, seed: 1 });
  const k = randomHeadTensor({ heads: 1, length: 40, dim: 4, seed: 2 });
  const v = randomHeadTensor({ heads: 1, length: 40, dim: 4, seed: 3 });
  const input = { q, k, v, qOffset: 0 };
  const want = referenceAttention(input, { causal: false });
  const got = await backend.attend(input, { causal: false });
  const mismatch =
    firstMismatch(got.output.data, want.output.data, tol.atol, tol.rtol, 'output') ??
    firstMismatch(got.lse, want.lse, tol.lseAtol, 0, 'lse');
  if (mismatch) throw new Error(mismatch);
}
