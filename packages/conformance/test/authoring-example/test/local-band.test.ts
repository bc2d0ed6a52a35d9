import { describePattern } from '@sparseland/conformance';
import { localBand } from '../src/index.js';

describePattern(localBand, { paramSets: [{ window: 1 }, { window: 33 }] });
