import { describeBackend } from '@sparseland/conformance';
import { createGpujsBackend } from '../src/index.js';
import { conformanceOptions } from './conformance-options.js';

// gpu.js 'webasm' mode: kernels compiled to WebAssembly with f32x4 SIMD.
describeBackend(() => createGpujsBackend({ mode: 'webasm' }), conformanceOptions('webasm'));
