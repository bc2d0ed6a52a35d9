// Benchmarks of the model runtime, run against the BUILT package (`pnpm bench`; turbo builds first).
// BENCH_SIZE=smoke (CI) runs tiny sizes in a few seconds; the full size takes a few minutes: run it under
// `flock /tmp/sparseland-bench.lock pnpm bench`. Every record carries the load average at its end and the CPU time
// of the process (all threads) per run, so a run on a shared machine can be read for what it is.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createCpuBackend } from '@sparseland/backend-cpu';
import { type BenchRecord, benchSize, gflops, measure, writeSuite } from '@sparseland/bench-harness';
import type { Backend } from '@sparseland/core';
import { modelFiles, textFile } from '@sparseland/fixtures';
import { createModel, type LlamaModel, type ModelConfig, parseCheckpoint, parseTokenizer } from '@sparseland/model';

const smoke = benchSize() === 'smoke';
const runs = 5;
const records: BenchRecord[] = [];
const load = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;
const cpuMs = (from: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

/** FLOPs of everything but attention for `tokens` tokens: 2 per weight of every projection, logits of one row. */
function projectionFlops(c: ModelConfig, tokens: number): number {
  const kvDim = c.kvHeads * c.headDim;
  const perToken = c.layers * 2 * (2 * c.dim * c.dim + 2 * kvDim * c.dim + 3 * c.hiddenDim * c.dim);
  return perToken * tokens + 2 * c.vocabSize * c.dim;
}

const stories = modelFiles('stories260K');
const tinybooks = modelFiles('tinybooks-2k');
const storiesBytes = new Uint8Array(readFileSync(stories.checkpoint));
const tinybooksBytes = new Uint8Array(readFileSync(tinybooks.checkpoint));
const book = readFileSync(textFile('pride-and-prejudice'), 'utf8').replace(/\r\n/g, '\n');

// 1. Parsing: zero-copy views plus one finite-scan of every weight.
{
  const t = await measure(() => parseCheckpoint(tinybooksBytes), { runs: 7, warmups: 1 });
  records.push({ case: 'parseCheckpoint tinybooks-2k (10 MB)', ...t, note: 'views + NaN/Inf scan' });
}

// 2. Tokenizer: heap-based BPE merges (run.c's loop is quadratic in the text length).
{
  const tokenizer = parseTokenizer(readFileSync(stories.tokenizer), 512);
  const text = smoke ? book.slice(0, 20_000) : book;
  let count = 0;
  const t = await measure(
    () => {
      count = tokenizer.encode(text).length;
    },
    { runs, warmups: 1 },
  );
  records.push({
    case: `encode ${text.length} chars (tok512)`,
    ...t,
    n: count,
    charsPerSecond: Math.round(text.length / (t.medianMs / 1000)),
  });
}

/** Prefill with attention and everything else timed apart; default backend: the float64 reference. */
async function prefillCase(
  name: string,
  model: LlamaModel,
  tokens: number[],
  backend?: Backend,
  extra: (record: BenchRecord) => Record<string, number> = () => ({}),
): Promise<BenchRecord> {
  const attentionMs: number[] = [];
  const cpu: number[] = [];
  const t = await measure(
    async () => {
      let ms = 0;
      const from = process.cpuUsage();
      const session = model.createSession({ backend, onAttention: (e) => (ms += e.stats.attendMs + e.stats.estimateMs) });
      await session.prefill(tokens);
      await session.dispose();
      cpu.push(cpuMs(from));
      attentionMs.push(ms);
    },
    { runs, warmups: 1 },
  );
  const attention = median(attentionMs.slice(-t.runs));
  const rest = t.medianMs - attention;
  const c = model.config;
  const record: BenchRecord = {
    case: `prefill ${name} N=${tokens.length}`,
    backend: backend?.name ?? 'reference',
    impl: backend?.impl ?? 'float64',
    threads: (backend as { threads?: number } | undefined)?.threads ?? 1,
    n: tokens.length,
    qHeads: c.heads,
    kvHeads: c.kvHeads,
    dim: c.headDim,
    ...t,
    tokensPerSecond: Math.round(tokens.length / (t.medianMs / 1000)),
    cpuMs: median(cpu.slice(-t.runs)),
    attentionMs: attention,
    restMs: rest,
    restTokensPerSecond: Math.round(tokens.length / (rest / 1000)),
    gflops: gflops(projectionFlops(c, tokens.length), rest),
    load: load(),
    note: `${Math.round(tokens.length / (t.medianMs / 1000))} tokens/s, attention ${attention.toFixed(0)} ms, CPU ${median(cpu.slice(-t.runs)).toFixed(0)} ms (all threads), load ${load()}; gflops: projections + FFN outside attention`,
  };
  const withExtra = { ...record, ...extra(record) };
  records.push(withExtra);
  return withExtra;
}

/**
 * Decode tokens/s at a depth: `steps` steps (each feeds the next byte of the text) timed together per run, median
 * of the runs. With `fresh`, each run is a new session whose prompt of `position` tokens is prefilled untimed, so
 * every run starts at `position`; otherwise one session is prefilled once and the runs follow each other (the
 * reference backend, whose prefill takes seconds), so the depth drifts by `steps` per run.
 */
async function decodeCase(
  name: string,
  model: LlamaModel,
  text: number[],
  position: number,
  steps: number,
  { backend, fresh }: { backend?: Backend; fresh: boolean },
): Promise<BenchRecord> {
  const wall: number[] = [];
  const cpu: number[] = [];
  const attention: number[] = [];
  let ms = 0;
  const start = async () => {
    const session = model.createSession({ backend, onAttention: (e) => (ms += e.phase === 'decode' ? e.stats.attendMs : 0) });
    await session.prefill(text.slice(0, position));
    return session;
  };
  let session = await start();
  for (let r = 0; r <= runs; r++) {
    if (fresh && r > 0) {
      await session.dispose();
      session = await start();
    }
    ms = 0;
    const at = session.position;
    const from = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await session.step(text[at + i] as number);
    const elapsed = performance.now() - t0;
    // The first run warms the engine up (and prepares the weights on the backend): not counted.
    if (r === 0) continue;
    wall.push(elapsed);
    cpu.push(cpuMs(from));
    attention.push(ms);
  }
  const last = session.position;
  await session.dispose();
  const c = model.config;
  const medianMs = median(wall);
  const record: BenchRecord = {
    case: fresh ? `decode ${name} at position ${position} (${steps} steps)` : `decode ${name} at positions ${position}..${last}`,
    backend: backend?.name ?? 'reference',
    impl: backend?.impl ?? 'float64',
    threads: (backend as { threads?: number } | undefined)?.threads ?? 1,
    n: position,
    qHeads: c.heads,
    kvHeads: c.kvHeads,
    dim: c.headDim,
    medianMs,
    minMs: Math.min(...wall),
    maxMs: Math.max(...wall),
    runs: wall.length,
    tokensPerSecond: Math.round(steps / (medianMs / 1000)),
    msPerToken: medianMs / steps,
    cpuMsPerToken: median(cpu) / steps,
    attentionMsPerToken: median(attention) / steps,
    load: load(),
    note: `${Math.round(steps / (medianMs / 1000))} tokens/s (${(medianMs / steps).toFixed(2)} ms/token, CPU ${(median(cpu) / steps).toFixed(2)} ms/token), load ${load()}; medianMs: all steps of one run`,
  };
  records.push(record);
  return record;
}

const tinyModel = createModel(parseCheckpoint(tinybooksBytes));
const storiesModel = createModel(parseCheckpoint(storiesBytes));
const bookBytes = Array.from(new TextEncoder().encode(book.slice(50_000, 60_000)));
const tinyPrompt = bookBytes.slice(0, smoke ? 64 : 2048);
// The targets (tinybooks-2k on the CPU backend): prefill of 2,048 tokens <= 0.7 s, decode >= 300 tokens/s at
// position 2,000.
const PREFILL_TARGET_MS = 700;
const DECODE_TARGET_TPS = 300;
const cpu = await createCpuBackend();
const prefillCpu = await prefillCase('tinybooks-2k', tinyModel, tinyPrompt, cpu, (r) => ({
  targetMs: PREFILL_TARGET_MS,
  meetsTarget: r.medianMs <= PREFILL_TARGET_MS ? 1 : 0,
}));
const decodePosition = smoke ? 100 : 2000;
const decodeCpu = await decodeCase('tinybooks-2k', tinyModel, bookBytes, decodePosition, smoke ? 8 : 32, { backend: cpu, fresh: true });
Object.assign(decodeCpu, {
  targetTokensPerSecond: DECODE_TARGET_TPS,
  meetsTarget: (decodeCpu['tokensPerSecond'] as number) >= DECODE_TARGET_TPS ? 1 : 0,
});
// Any backend works: the same with core's float64 reference (slow, exact; the golden tests' default).
const onReference = await prefillCase('tinybooks-2k', tinyModel, tinyPrompt);
Object.assign(prefillCpu, {
  speedupVsReference: onReference.medianMs / prefillCpu.medianMs,
  attentionSpeedupVsReference: (onReference['attentionMs'] as number) / (prefillCpu['attentionMs'] as number),
});
await decodeCase('tinybooks-2k', tinyModel, bookBytes, decodePosition, 4, { fresh: false });
await cpu.dispose();
const storiesTokenizer = parseTokenizer(readFileSync(stories.tokenizer), 512);
await prefillCase('stories260K', storiesModel, [1, ...storiesTokenizer.encode(book.slice(50_000, 52_000))].slice(0, smoke ? 64 : 512));

// 3. Greedy generation of the small model on the reference backend (the quickstart's path).
{
  const maxTokens = smoke ? 16 : 256;
  const t = await measure(
    async () => {
      await storiesModel.generate([1], { maxTokens });
    },
    { runs, warmups: 1 },
  );
  records.push({
    case: `generate stories260K ${maxTokens} tokens`,
    backend: 'reference',
    n: maxTokens,
    ...t,
    tokensPerSecond: Math.round(maxTokens / (t.medianMs / 1000)),
    load: load(),
  });
}

writeSuite('model', records);
