import { runInChromium } from '@sparseland/browser-runner';
import { allBackendCases, exclusionReason } from '@sparseland/conformance';
import { beforeAll, describe, expect, it } from 'vitest';
import { modeConformance } from '../src/conformance.js';
import { type ModeOutcome, PACKED_GRID_CASE } from './browser/conformance-page.js';

// The conformance kit in headless Chromium (the npm-packaged headless shell, WebGL2 and WebGPU on SwiftShader): one page runs
// every case in both modes; each case is one test here. Exclusions and tolerances come from src/conformance.ts,
// the same place the Node suites use.
const PAGE = new URL('./browser/conformance-page.ts', import.meta.url).pathname;
let outcomes: ModeOutcome[] = [];

beforeAll(async () => {
  outcomes = (await runInChromium({ entry: PAGE, timeoutMs: 240_000 })) as ModeOutcome[];
}, 300_000);

for (const mode of ['webgl2', 'webgpu'] as const) {
  describe(`conformance in Chromium: backend gpujs (${mode})`, () => {
    it('creates the backend in that very mode, with no kernel falling back to another', () => {
      const outcome = outcomes.find((o) => o.mode === mode);
      expect(outcome?.error).toBeUndefined();
      expect(outcome?.impl).toBe(mode);
      expect(outcome?.fallbacks).toEqual([]);
    });
    const { filters } = modeConformance(mode);
    for (const c of [...allBackendCases(), { name: PACKED_GRID_CASE }]) {
      const reason = exclusionReason(c.name, filters);
      if (reason !== undefined) {
        it.skip(`${c.name} (excluded: ${reason})`, () => {});
        continue;
      }
      it(c.name, () => {
        const result = outcomes.find((o) => o.mode === mode)?.cases.find((x) => x.name === c.name);
        if (!result) throw new Error(`the page did not run "${c.name}" in ${mode}`);
        if (result.status === 'fail') throw new Error(result.detail);
        expect(result.status).toBe('pass');
      });
    }
  });
}
