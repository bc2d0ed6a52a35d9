import { describeBackend } from '@sparseland/conformance';
import { createGpujsBackend } from '../src/index.js';
import { conformanceOptions } from './conformance-options.js';

// gpu.js 'cpu' mode: kernels transpiled to plain JavaScript, everywhere.
describeBackend(() => createGpujsBackend({ mode: 'cpu' }), conformanceOptions('cpu'));
