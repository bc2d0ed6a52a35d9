import { attendCases, decodeCases, describeBackend } from '@sparseland/conformance';
import { gpujsBackend } from '../src/index.js';
import { conformanceOptions } from './conformance-options.js';

// gpu.js 'webasm' mode: kernels compiled to WebAssembly with f32x4 SIMD.
describeBackend(gpujsBackend, conformanceOptions('webasm'));

// The same mode with the P·V work split into chunks of items (what GPU modes do by default), so the split and its
// summing kernel are checked against the reference here too.
describeBackend(gpujsBackend, {
  ...conformanceOptions('webasm', { valueThreads: 1 << 20 }, 'webasm, P·V split into chunks'),
  cases: [...attendCases(), ...decodeCases()],
});
