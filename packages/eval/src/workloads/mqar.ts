import { createHeadTensor, kvHeadOf, LIMITS, SparselandError } from '@sparseland/core';
import { createRng, expectInteger, expectSeed, expectTensorSize } from '@sparseland/core/kit';
import { WORKLOAD_LIMITS } from '../limits.js';
import { positionalProcess } from './positional-process.js';
import { lazyItems, type Needle, type Workload, type WorkloadItem } from './workload.js';

export interface MqarOptions {
  /** Sequence length. */
  readonly n: number;
  /** Key-value pairs written at the start (default n / 8). */
  readonly pairs?: number;
  /** Queries placed after the pairs, each asking for one earlier key (default: pairs). */
  readonly queries?: number;
  /** Token vocabulary the keys, values and filler are drawn from (default 8192, as in Zoology, or 2·pairs + 2 when larger). */
  readonly vocab?: number;
  readonly heads?: number;
  readonly kvHeads?: number;
  readonly dim?: number;
  readonly seed: number;
  readonly samples?: number;
  readonly name?: string;
}

/**
 * Multi-query associative recall rows in the style of Zoology's MQAR, as attention tensors: the sequence starts with
 * `pairs` (key, value) tokens, and later a query token repeats one key. An induction-style head retrieves the value:
 * every key position carries the identity of the token before it, and a query row looks for its own token, so the
 * right (query row, value position) pair — the needle — carries most of the row's mass. Other rows attend locally.
 */
export function mqarWorkload(options: MqarOptions): Workload {
  if (typeof options !== 'object' || options === null) throw new SparselandError('E_PARAMS', 'mqarWorkload: expected an options object');
  const n = expectInteger(options.n, 'n', 16, WORKLOAD_LIMITS.length);
  const pairs = expectInteger(options.pairs ?? Math.max(1, Math.floor(n / 8)), 'pairs', 1, Math.floor(n / 4));
  const queries = expectInteger(options.queries ?? pairs, 'queries', 1, n - 2 * pairs - 1);
  const vocab = mqarVocab(options.vocab, pairs);
  const heads = expectInteger(options.heads ?? 4, 'heads', 1, LIMITS.heads);
  const kvHeads = expectInteger(options.kvHeads ?? 2, 'kvHeads', 1, heads);
  if (heads % kvHeads !== 0) {
    throw new SparselandError('E_PARAMS', `heads must be a multiple of kvHeads, got heads ${heads} and kvHeads ${kvHeads}`);
  }
  const dim = expectInteger(options.dim ?? 64, 'dim', 8, LIMITS.dim);
  expectTensorSize(heads, n, dim, 'q');
  const seed = expectSeed(options.seed);
  const samples = expectInteger(options.samples ?? 1, 'samples', 1, WORKLOAD_LIMITS.samples);
  const plan = { n, pairs, queries, vocab, heads, kvHeads, dim };
  return {
    name: options.name ?? `mqar:${n}`,
    description: `MQAR n=${n}: ${pairs} key-value pairs, ${queries} queries, vocab ${vocab}, ${heads} query / ${kvHeads} kv heads, dim ${dim}, seed ${seed}`,
    size: samples,
    items: lazyItems(samples, (i) => generateMqar(plan, seed + i * 7919, i)),
  };
}

/** Zoology's vocabulary: 8,192 tokens. */
const DEFAULT_VOCAB = 8192;

/**
 * The vocabulary: keys are distinct and filler never repeats a key, so it needs at least 2·pairs + 2 tokens. The
 * default grows to that for long inputs; a given vocabulary that is too small is refused saying why.
 */
function mqarVocab(given: unknown, pairs: number): number {
  const least = 2 * pairs + 2;
  if (given === undefined) return Math.max(DEFAULT_VOCAB, least);
  const vocab = expectInteger(given, 'vocab', 2, WORKLOAD_LIMITS.vocab);
  if (vocab < least) {
    throw new SparselandError(
      'E_PARAMS',
      `vocab ${vocab} is too small for ${pairs} key-value pairs: keys must be distinct and filler must avoid them, so the vocabulary needs at least 2·pairs + 2 = ${least} tokens (or fewer pairs)`,
      { vocab, pairs, least },
    );
  }
  return vocab;
}

interface MqarPlan {
  readonly n: number;
  readonly pairs: number;
  readonly queries: number;
  readonly vocab: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly dim: number;
}

function generateMqar(plan: MqarPlan, seed: number, index: number): WorkloadItem {
  const { n, pairs, queries, vocab, heads, kvHeads, dim } = plan;
  const rng = createRng(seed);
  // Tokens: distinct keys k_m at 2m, their values at 2m + 1, then filler with queries at distinct random positions.
  const tokens = new Int32Array(n);
  const keyIds = new Set<number>();
  while (keyIds.size < pairs) keyIds.add(rng.int(vocab));
  const keys = [...keyIds];
  for (let m = 0; m < pairs; m++) {
    tokens[2 * m] = keys[m] as number;
    tokens[2 * m + 1] = rng.int(vocab);
  }
  for (let p = 2 * pairs; p < n; p++) {
    let t = rng.int(vocab);
    while (keyIds.has(t)) t = rng.int(vocab);
    tokens[p] = t;
  }
  const queryRows = new Set<number>();
  while (queryRows.size < queries) queryRows.add(2 * pairs + rng.int(n - 2 * pairs));
  // Each query asks a different key while there are keys left, so one value position answers one query row.
  const order = Array.from({ length: pairs }, (_, m) => m);
  for (let m = pairs - 1; m > 0; m--) {
    const r = rng.int(m + 1);
    [order[m], order[r]] = [order[r] as number, order[m] as number];
  }
  const asked = new Map<number, number>();
  let next = 0;
  for (const row of [...queryRows].sort((a, b) => a - b)) {
    const m = order[next++ % pairs] as number;
    tokens[row] = keys[m] as number;
    asked.set(row, m);
  }

  // Channels: associative (token identity) and positional (a local band for every row).
  const assoc = Math.max(4, Math.floor((dim * 3) / 4));
  const positional = dim - assoc;
  const embedding = new Map<number, Float32Array>();
  const embed = (t: number): Float32Array => {
    let e = embedding.get(t);
    if (!e) {
      e = new Float32Array(assoc);
      let norm = 0;
      for (let c = 0; c < assoc; c++) norm += (e[c] = rng.normal()) ** 2;
      for (let c = 0; c < assoc; c++) e[c] = (e[c] as number) / Math.sqrt(norm);
      embedding.set(t, e);
    }
    return e;
  };
  const root = Math.sqrt(dim);
  const recall = Math.log(n) + 8;
  const local = 0.8 * Math.log(n);

  const q = createHeadTensor(heads, n, dim);
  const k = createHeadTensor(kvHeads, n, dim);
  const v = createHeadTensor(kvHeads, n, dim);
  for (let i = 0; i < v.data.length; i++) v.data[i] = rng.normal();
  const processes: Float32Array[] = [];
  for (let g = 0; g < kvHeads; g++) {
    const u = positional > 0 ? positionalProcess(n, positional, 16, rng) : new Float32Array(0);
    processes.push(u);
    for (let j = 1; j < n; j++) {
      const base = (g * n + j) * dim;
      k.data.set(embed(tokens[j - 1] as number), base);
      for (let c = 0; c < positional; c++) k.data[base + assoc + c] = u[j * positional + c] as number;
    }
  }
  const needles: Needle[] = [];
  for (let h = 0; h < heads; h++) {
    const u = processes[kvHeadOf(h, heads, kvHeads)] as Float32Array;
    for (let i = 0; i < n; i++) {
      const base = (h * n + i) * dim;
      const m = asked.get(i);
      if (m !== undefined) {
        const e = embed(tokens[i] as number);
        for (let c = 0; c < assoc; c++) q.data[base + c] = root * recall * (e[c] as number);
        needles.push({ head: h, qRow: i, key: 2 * m + 1 });
      }
      for (let c = 0; c < positional; c++) q.data[base + assoc + c] = root * local * (u[i * positional + c] as number);
    }
  }
  return { layer: index, q, k, v, needles };
}
