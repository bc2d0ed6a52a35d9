import { browserBench } from './browser-bench.js';

/** Full size: what SwiftShader (software WebGL2/WebGPU) finishes in reasonable time. */
export const run = () => browserBench(1024, 5);
