// The README's example: `pnpm --filter @sparseland/conformance exec tsx --conditions=@sparseland/source examples/run-cases.ts`.
// The kit's cases without vitest, the way a browser page runs them, on the guide's local-band pattern.
import {
  allBackendCases,
  type CaseOutcome,
  EXACT_TOLERANCE,
  metadataCase,
  patternBackendCases,
  patternCases,
  REFERENCE_BACKEND,
  runCases,
} from '@sparseland/conformance/cases';
import type { AttentionInput } from '@sparseland/core';
import { localBand } from '../test/authoring-example/src/index.js';

export async function runCasesExample(log: (line: string) => void = console.log): Promise<void> {
  const backend = await REFERENCE_BACKEND.create();
  const show = (outcomes: CaseOutcome[]) => {
    for (const o of outcomes) log(`${o.status.padEnd(8)} ${o.name}${o.detail ? ` (${o.detail})` : ''}`);
  };

  // A pattern: the metadata and fast-builder cases need no backend; the backend cases run its mask on one.
  const options = { paramSets: [{ window: 5 }] };
  show(await runCases([metadataCase(localBand, 'pattern'), ...patternCases(localBand, options)], (c) => c.run()));
  show(await runCases(patternBackendCases(localBand, options), (c) => c.run(backend)));

  // A backend that ignores masks fails, and the message names the first mismatch.
  const maskBlind = { ...backend, attend: (input: AttentionInput) => backend.attend(input) };
  show(await runCases(patternBackendCases(localBand, options), (c) => c.run(maskBlind)));

  // A backend: every op against the float64 reference, here with an exclusion and its reason.
  const filters = { excludes: [{ match: /^quantizedScores/, reason: 'no integer kernels in this backend yet' }] };
  const ops = await runCases(allBackendCases(), (c) => c.run(backend, EXACT_TOLERANCE), filters);
  const failed = ops.filter((o) => o.status === 'fail');
  const excluded = new Set(ops.filter((o) => o.status === 'excluded').map((o) => o.detail));
  log(`backend ${backend.name}: ${failed.length} failed; excluded: ${[...excluded].join(', ')}`);
  await backend.dispose();
}

if (import.meta.url === `file://${process.argv[1]}`) await runCasesExample();
