import type { DescribeBackendOptions } from '@sparseland/conformance';
import { modeConformance } from '../src/conformance.js';
import { createGpujsBackend, type GpujsBackendOptions, type GpujsMode } from '../src/index.js';

/**
 * The conformance options of one mode: the backend in that mode (with any other options, under `label`), and the
 * tolerance and filters documented in src/conformance.ts.
 */
export function conformanceOptions(mode: GpujsMode, options: GpujsBackendOptions = {}, label: string = mode): DescribeBackendOptions {
  const { tolerance, filters } = modeConformance(mode);
  return { backends: [{ name: `gpujs (${label})`, create: () => createGpujsBackend({ ...options, mode }) }], tolerance, filters };
}
