import { describeBackend } from '@sparseland/conformance';
import { gpujsBackend } from '../src/index.js';
import { conformanceOptions } from './conformance-options.js';

// gpu.js 'cpu' mode: kernels transpiled to plain JavaScript, everywhere.
describeBackend(gpujsBackend, conformanceOptions('cpu'));
