import { browserBench } from './browser-bench.js';

/** BENCH_SIZE=smoke: seconds. */
export const run = () => browserBench(256, 5);
