import type { DescribeBackendOptions } from '@sparseland/conformance';
import { modeConformance } from '../src/conformance.js';

/** The conformance options of one mode: the tolerance and filters documented in src/conformance.ts. */
export function conformanceOptions(mode: string): DescribeBackendOptions {
  const { tolerance, filters } = modeConformance(mode);
  return { name: `gpujs (${mode})`, tolerance, filters };
}
