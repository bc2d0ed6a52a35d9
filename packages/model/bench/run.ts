// Benchmarks of the model runtime, run against the BUILT package (`pnpm bench`; turbo builds first).
// BENCH_SIZE=smoke (CI) runs tiny sizes in a few seconds; the full size takes a few minutes: run it under
// `flock /tmp/sparseland-bench.lock pnpm bench`.
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@sparseland/backend-cpu';
import { type BenchRecord, benchSize, gflops, measure, writeSuite } from '@sparseland/bench-harness';
import type { Backend } from '@sparseland/core';
import { modelFiles, textFile } from '@sparseland/fixtures';
import { createModel, type LlamaModel, type ModelConfig, parseCheckpoint, parseTokenizer } from '@sparseland/model';

const smoke = benchSize() === 'smoke';
const runs = 5;
const records: BenchRecord[] = [];

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
  const t = await measure(
    async () => {
      let ms = 0;
      const session = model.createSession({ backend, onAttention: (e) => (ms += e.stats.attendMs + e.stats.estimateMs) });
      await session.prefill(tokens);
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
    attentionMs: attention,
    restMs: rest,
    restTokensPerSecond: Math.round(tokens.length / (rest / 1000)),
    gflops: gflops(projectionFlops(c, tokens.length), rest),
    note: 'gflops: projections + FFN only',
  };
  const withExtra = { ...record, ...extra(record) };
  records.push(withExtra);
  return withExtra;
}

const tinyModel = createModel(parseCheckpoint(tinybooksBytes));
const storiesModel = createModel(parseCheckpoint(storiesBytes));
const bookBytes = Array.from(new TextEncoder().encode(book.slice(50_000, 60_000)));
const tinyPrompt = bookBytes.slice(0, smoke ? 64 : 2048);
const onReference = await prefillCase('tinybooks-2k', tinyModel, tinyPrompt);
// Any backend works: the same prefill with @sparseland/backend-cpu's attention (measured in the same run).
const cpu = await createCpuBackend();
await prefillCase('tinybooks-2k', tinyModel, tinyPrompt, cpu, (r) => ({
  speedupVsReference: onReference.medianMs / r.medianMs,
  attentionSpeedupVsReference: (onReference['attentionMs'] as number) / (r['attentionMs'] as number),
}));
await cpu.dispose();
const storiesTokenizer = parseTokenizer(readFileSync(stories.tokenizer), 512);
await prefillCase('stories260K', storiesModel, [1, ...storiesTokenizer.encode(book.slice(50_000, 52_000))].slice(0, smoke ? 64 : 512));

// 3. Decoding: greedy tokens per second, and one step deep into tinybooks' context.
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
  });
}
{
  const context = smoke ? 128 : 2047;
  const session = tinyModel.createSession();
  await session.prefill(bookBytes.slice(0, context));
  const snapshotPosition = session.position;
  // Each timed call is a fresh decode step at the same depth: a new session would re-run the prefill, so step on
  // copies of the prompt's last token and let the cache grow by one per run (2047 + runs + warmups ≈ 2054).
  // An async function (not just one returning a promise): tinybench awaits only what it recognises as async.
  const t = await measure(
    async () => {
      await session.step(bookBytes[context] as number);
    },
    { runs, warmups: 1 },
  );
  records.push({
    case: `decode step tinybooks-2k at position ~${snapshotPosition}`,
    backend: 'reference',
    n: snapshotPosition,
    qHeads: tinyModel.config.heads,
    kvHeads: tinyModel.config.kvHeads,
    dim: tinyModel.config.headDim,
    ...t,
  });
}

writeSuite('model', records);
