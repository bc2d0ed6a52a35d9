// The arithmetic ceiling of 4-lane WebAssembly on the machine the benchmark runs on, measured in the same run: the
// "fraction of the ceiling" of every record divides by this, so it stays true on another CPU (the project's Zen 4
// VM reads ~56.8 GFLOP/s per thread, a 2.1 GHz Xeon ~41) and through the VM's slow and fast phases.
//
// The probe is twelve independent chains of f32x4 relaxed multiply-adds with no memory traffic: enough chains to
// cover the FMA latency (4 cycles × 2 pipes = 8) with room to spare, so it runs at the FMA pipes' issue rate. It
// runs on one worker thread alone, then on `threads` workers at once (the all-threads ceiling, lower than threads ×
// one thread where cores share pipes or clocks).

import { Worker } from 'node:worker_threads';

export const CHAINS = 12;
/** FLOP per loop iteration: CHAINS f32x4 multiply-adds of 4 lanes × 2 FLOP. */
const FLOP_PER_ITERATION = CHAINS * 4 * 2;

/** Unsigned LEB128, as WebAssembly encodes indices, counts and SIMD opcodes. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

const f32Const = (x: number): number[] => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)];
const simd = (op: number): number[] => [0xfd, ...leb(op)];
const F32X4_SPLAT = 0x13;
const F32X4_EXTRACT_LANE = 0x1f;
const F32X4_ADD = 0xe4;
const F32X4_RELAXED_MADD = 0x105;
const get = (i: number): number[] => [0x20, ...leb(i)];
const set = (i: number): number[] => [0x21, ...leb(i)];

/**
 * The probe module, assembled here (a few hundred bytes; no compiler needed at bench time): one export
 * `peak(iterations: i32, seed: f32) -> f32` that runs `iterations` steps of x_c = x_c · 0.999 + seed on CHAINS f32x4
 * locals and returns the sum of their lanes (so no engine can drop the loop). With seed 0.001 every lane converges to
 * 1: no overflow and no subnormals.
 */
export function peakModule(): Uint8Array<ArrayBuffer> {
  // Locals: 0 iterations, 1 seed (parameters), 2 i (i32), 3 a, 4 b, 5… the chains (v128).
  const A = 3;
  const B = 4;
  const X = 5;
  const body: number[] = [0x02, 0x01, 0x7f, ...leb(2 + CHAINS), 0x7b];
  body.push(...f32Const(0.999), ...simd(F32X4_SPLAT), ...set(A));
  body.push(...get(1), ...simd(F32X4_SPLAT), ...set(B));
  for (let c = 0; c < CHAINS; c++) body.push(...f32Const(c / 10), ...simd(F32X4_SPLAT), ...set(X + c));
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  body.push(...get(2), ...get(0), 0x4e, 0x0d, 0x01); // if i >= iterations: break
  for (let c = 0; c < CHAINS; c++) body.push(...get(X + c), ...get(A), ...get(B), ...simd(F32X4_RELAXED_MADD), ...set(X + c));
  body.push(...get(2), 0x41, 0x01, 0x6a, ...set(2), 0x0c, 0x00, 0x0b, 0x0b); // i += 1, continue; end loop, end block
  body.push(...get(X));
  for (let c = 1; c < CHAINS; c++) body.push(...get(X + c), ...simd(F32X4_ADD));
  body.push(0x22, A); // local.tee a: the sum
  body.push(...simd(F32X4_EXTRACT_LANE), 0x00);
  for (let lane = 1; lane < 4; lane++) body.push(...get(A), ...simd(F32X4_EXTRACT_LANE), lane, 0x92);
  body.push(0x0b);
  const section = (id: number, content: number[]): number[] => [id, ...leb(content.length), ...content];
  const name = [...new TextEncoder().encode('peak')];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [0x01, 0x60, 0x02, 0x7f, 0x7d, 0x01, 0x7d]), // type: (i32, f32) -> f32
    ...section(3, [0x01, 0x00]), // one function of type 0
    ...section(7, [0x01, ...leb(name.length), ...name, 0x00, 0x00]), // export "peak" = function 0
    ...section(10, [0x01, ...leb(body.length), ...body]),
  ]);
}

// One worker: instantiates the probe, runs it until V8 has tiered it up, sizes one repetition to ~40 ms, waits for
// the start signal (so all workers compute at once), then reports the times of `reps` repetitions.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { bytes, start, reps, flopPerIteration } = workerData;
const peak = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports.peak;
let sink = 0;
const rate = (iterations) => {
  const t0 = performance.now();
  sink += peak(iterations, 0.001);
  return (iterations * flopPerIteration) / (performance.now() - t0) / 1e6;
};
// Warm up until the rate stops rising (at least 300 ms, at most 3 s): V8 runs new WebAssembly code in its baseline
// tier until the optimised code is ready, later on a busy machine. A repetition is then ~40 ms at the best rate seen.
const warm = performance.now();
let best = 0;
let bestAt = warm;
for (let now = warm; (now - warm < 300 || now - bestAt < 150) && now - warm < 3000; now = performance.now()) {
  const r = rate(200000);
  if (r > best * 1.05) bestAt = performance.now();
  best = Math.max(best, r);
}
const iterations = Math.max(100000, Math.round((40 * best * 1e6) / flopPerIteration));
parentPort.postMessage({ type: 'ready' });
Atomics.wait(start, 0, 0);
const times = [];
for (let r = 0; r < reps; r++) {
  const t0 = performance.now();
  sink += peak(iterations, 0.001);
  times.push(performance.now() - t0);
}
times.sort((x, y) => x - y);
parentPort.postMessage({ type: 'rate', medianMs: times[times.length >> 1], minMs: times[0], maxMs: times[times.length - 1], flops: iterations * flopPerIteration, sink });
`;

/** One worker's repetitions: their times and the FLOP of one repetition. */
interface ProbeTimes {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly flops: number;
}

/** The repetitions of each of `threads` workers running the probe at the same time. */
async function runTogether(bytes: Uint8Array<ArrayBuffer>, threads: number, reps: number): Promise<ProbeTimes[]> {
  const start = new Int32Array(new SharedArrayBuffer(4));
  const workers = Array.from(
    { length: threads },
    () => new Worker(WORKER_SOURCE, { eval: true, workerData: { bytes, start, reps, flopPerIteration: FLOP_PER_ITERATION } }),
  );
  try {
    const handles = workers.map((w) => {
      const failed = new Promise<never>((_, reject) => w.once('error', reject));
      const next = (type: string) =>
        Promise.race([
          new Promise<ProbeTimes>((resolve) => {
            const listen = (m: ProbeTimes & { type: string }) => {
              if (m.type !== type) return;
              w.off('message', listen);
              resolve({ medianMs: m.medianMs, minMs: m.minMs, maxMs: m.maxMs, flops: m.flops });
            };
            w.on('message', listen);
          }),
          failed,
        ]);
      return { ready: next('ready'), rate: next('rate') };
    });
    await Promise.all(handles.map((h) => h.ready));
    Atomics.store(start, 0, 1);
    Atomics.notify(start, 0);
    return await Promise.all(handles.map((h) => h.rate));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** The probe's repetitions on some threads at once: the slowest thread's times, and the ceiling they give. */
export interface PeakTimes {
  readonly threads: number;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /** GFLOP/s: the sum over the threads of each one's fastest repetition (a ceiling is the best the machine gives). */
  readonly gflops: number;
}

export interface WasmPeak {
  /** GFLOP/s of one thread running alone. */
  readonly perThread: number;
  /** GFLOP/s of `threads` threads running at once. */
  readonly allThreads: number;
  readonly threads: number;
  /** The repetitions behind each number: one thread alone, then all threads at once. */
  readonly runs: readonly PeakTimes[];
}

function combine(times: readonly ProbeTimes[], runs: number): PeakTimes {
  return {
    threads: times.length,
    runs,
    medianMs: Math.max(...times.map((t) => t.medianMs)),
    minMs: Math.max(...times.map((t) => t.minMs)),
    maxMs: Math.max(...times.map((t) => t.maxMs)),
    gflops: times.reduce((s, t) => s + t.flops / t.minMs / 1e6, 0),
  };
}

/**
 * Measures the 4-lane WebAssembly FMA ceiling (relaxed SIMD; the engine must accept it, as the backend's relaxed
 * build needs: create a backend first, which turns Node 20's flag on). One to two seconds.
 */
export async function measureWasmPeak(threads: number, reps = 7): Promise<WasmPeak> {
  const bytes = peakModule();
  if (!WebAssembly.validate(bytes)) throw new Error('the WebAssembly peak probe does not validate (relaxed SIMD off?)');
  const alone = combine(await runTogether(bytes, 1, reps), reps);
  const together = threads > 1 ? combine(await runTogether(bytes, threads, reps), reps) : alone;
  return { perThread: alone.gflops, allThreads: together.gflops, threads, runs: threads > 1 ? [alone, together] : [alone] };
}

/** The ceiling for a run on `threads` threads: measured for 1 and for all threads, in proportion otherwise. */
export function ceilingFor(peak: WasmPeak, threads: number): number {
  if (threads === 1) return peak.perThread;
  if (threads === peak.threads) return peak.allThreads;
  return (peak.allThreads / peak.threads) * threads;
}
