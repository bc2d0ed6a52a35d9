import { createHeadTensor, kvHeadOf, LIMITS, SparselandError } from '@sparseland/core';
import { createRng, expectInteger, expectSeed, expectTensorSize, type Rng } from '@sparseland/core/kit';
import { WORKLOAD_LIMITS } from '../limits.js';
import { positionalProcess } from './positional-process.js';
import { lazyItems, type Needle, type Workload, type WorkloadItem } from './workload.js';

/** What is planted in a synthetic input. Counts are per kv head (verticals) or per query head (slashes, needles). */
export interface SyntheticStructure {
  /** Leading keys every query attends to (attention sinks). Default 4. */
  readonly sinks: number;
  /** Width in keys of the local band around the diagonal. Default 64. */
  readonly band: number;
  /** Heavy key columns per kv head, at random positions. Default 8. */
  readonly verticals: number;
  /** Diagonal lines (query i attends key i − δ) per query head. Default 4. */
  readonly slashes: number;
  /** Retrieval needles per query head: a far (query, key) pair that carries most of its row's mass. Default 4. */
  readonly needles: number;
}

export interface SyntheticOptions {
  /** Sequence length (queries = keys = n). */
  readonly n: number;
  /** Query heads (default 8). */
  readonly heads?: number;
  /** Kv heads (default 2: GQA 4:1). */
  readonly kvHeads?: number;
  /** Head dim (default 64, at least 8). */
  readonly dim?: number;
  readonly seed: number;
  readonly structure?: Partial<SyntheticStructure>;
  /** Independent samples (items) to generate, one at a time (default 1). */
  readonly samples?: number;
  /** Workload name (default `synthetic:<n>`, e.g. `synthetic:32k`). */
  readonly name?: string;
  /**
   * Draw the needles' query rows from the last `needleWindow` rows, like a needle-in-a-haystack question at the end
   * of the prompt (what last-queries probes such as MInference's see), instead of anywhere in the second half.
   */
  readonly needleWindow?: number;
}

export const DEFAULT_STRUCTURE: SyntheticStructure = Object.freeze({ sinks: 4, band: 64, verticals: 8, slashes: 4, needles: 4 });

/** `32768` → `32k`; other lengths as they are. */
export function lengthLabel(n: number): string {
  return n % 1024 === 0 ? `${n / 1024}k` : String(n);
}

/**
 * Long synthetic attention inputs with planted, known structure: sinks, a local band, vertical heavy keys, diagonal
 * lines and retrieval needles; random overlaps of the positional code are the noise. Strengths grow with ln(n) so
 * the structure keeps most of the mass at any length, and each needle's logit is set to outweigh the rest of its row
 * (about 7/8 of the row's mass). Seeded: the same options give the same tensors everywhere. Items are generated
 * lazily, one per sample.
 */
export function syntheticWorkload(options: SyntheticOptions): Workload {
  const plan = resolvePlan(options);
  const samples = expectInteger(options.samples ?? 1, 'samples', 1, WORKLOAD_LIMITS.samples);
  const s = plan.structure;
  return {
    name: options.name ?? `synthetic:${lengthLabel(plan.n)}`,
    description:
      `synthetic n=${plan.n}, ${plan.heads} query / ${plan.kvHeads} kv heads, dim ${plan.dim}, seed ${options.seed}: ` +
      `${s.sinks} sinks, band ${s.band}, ${s.verticals} verticals/kv head, ${s.slashes} slashes and ${s.needles} needles/head` +
      (plan.needleWindow === undefined ? '' : ` (needle queries in the last ${plan.needleWindow} rows)`),
    size: samples,
    items: lazyItems(samples, (i) => generateSynthetic(plan, options.seed + i * 7919, i)),
  };
}

interface Plan {
  readonly n: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly dim: number;
  readonly structure: SyntheticStructure;
  readonly needleWindow: number | undefined;
}

function resolvePlan(options: SyntheticOptions): Plan {
  if (typeof options !== 'object' || options === null)
    throw new SparselandError('E_PARAMS', 'syntheticWorkload: expected an options object');
  const n = expectInteger(options.n, 'n', 16, WORKLOAD_LIMITS.length);
  const heads = expectInteger(options.heads ?? 8, 'heads', 1, LIMITS.heads);
  const kvHeads = expectInteger(options.kvHeads ?? 2, 'kvHeads', 1, heads);
  if (heads % kvHeads !== 0) {
    throw new SparselandError('E_PARAMS', `heads must be a multiple of kvHeads, got heads ${heads} and kvHeads ${kvHeads}`);
  }
  const dim = expectInteger(options.dim ?? 64, 'dim', 8, LIMITS.dim);
  expectTensorSize(heads, n, dim, 'q');
  expectSeed(options.seed);
  const given = options.structure ?? {};
  const structure: SyntheticStructure = {
    sinks: expectInteger(given.sinks ?? DEFAULT_STRUCTURE.sinks, 'structure.sinks', 0, n),
    band: expectInteger(given.band ?? DEFAULT_STRUCTURE.band, 'structure.band', 1, n),
    verticals: expectInteger(given.verticals ?? DEFAULT_STRUCTURE.verticals, 'structure.verticals', 0, n),
    slashes: expectInteger(given.slashes ?? DEFAULT_STRUCTURE.slashes, 'structure.slashes', 0, 64),
    needles: expectInteger(given.needles ?? DEFAULT_STRUCTURE.needles, 'structure.needles', 0, 1024),
  };
  const group = heads / kvHeads;
  const { needle } = channelLayout(dim);
  if (structure.needles * group > needle.count) {
    throw new SparselandError(
      'E_PARAMS',
      `structure.needles: each kv head has ${needle.count} needle channels at dim ${dim}, so at most ${Math.floor(needle.count / group)} needles ` +
        `per query head fit with ${group} query heads per kv head; got ${structure.needles}`,
    );
  }
  if (structure.needles > 0 && n < 2 * (structure.band + structure.sinks) + 8) {
    throw new SparselandError(
      'E_PARAMS',
      `needles need room: n must be at least 2·(band + sinks) + 8 = ${2 * (structure.band + structure.sinks) + 8}, got ${n}`,
    );
  }
  const needleWindow =
    options.needleWindow === undefined ? undefined : expectInteger(options.needleWindow, 'needleWindow', structure.needles, n);
  return { n, heads, kvHeads, dim, structure, needleWindow };
}

/**
 * Channel ranges of a head's dim: one sink channel, one vertical channel, a needle group (one channel per needle of a
 * kv head, so needles never interfere) and the positional group. The positional code's random overlaps between far
 * positions are the input's noise: no separate noise channels are needed.
 */
function channelLayout(dim: number) {
  const needleCount = Math.max(2, Math.floor(dim / 4));
  const needle = { start: 2, count: needleCount };
  const positional = { start: 2 + needleCount, count: dim - 2 - needleCount };
  return { sink: 0, vertical: 1, needle, positional };
}

/**
 * Diagonal offsets δ for a head's slashes: beyond the band, at most n/2, and at least two band widths apart so two
 * slashes never merge into one stronger line. Fewer than `count` when they do not fit.
 */
function slashOffsets(rng: Rng, count: number, band: number, n: number): number[] {
  const gap = 2 * band;
  const slots = Math.floor((Math.floor(n / 2) - gap) / gap);
  return distinctInRange(rng, Math.min(count, Math.max(0, slots)), 1, slots + 1).map((s) => s * gap + rng.int(band));
}

/** Scaled logits of row `i` of query head h (causal): log-sum-exp over every key but `key`, and the logit at `key`. */
function rowLogits(q: Float32Array, k: Float32Array, h: number, g: number, i: number, key: number, n: number, dim: number) {
  const scale = 1 / Math.sqrt(dim);
  const logits = new Float64Array(i + 1);
  let max = -Infinity;
  for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += (q[(h * n + i) * dim + c] as number) * (k[(g * n + j) * dim + c] as number);
    logits[j] = s * scale;
    if (j !== key && (logits[j] as number) > max) max = logits[j] as number;
  }
  let sum = 0;
  for (let j = 0; j <= i; j++) if (j !== key) sum += Math.exp((logits[j] as number) - max);
  return { rest: max + Math.log(sum), atKey: logits[key] as number };
}

/** Distinct integers drawn uniformly from [lo, hi), at most `count`. */
function distinctInRange(rng: Rng, count: number, lo: number, hi: number): number[] {
  const picked = new Set<number>();
  const want = Math.min(count, Math.max(0, hi - lo));
  while (picked.size < want) picked.add(lo + rng.int(hi - lo));
  return [...picked].sort((a, b) => a - b);
}

function generateSynthetic(plan: Plan, seed: number, index: number): WorkloadItem {
  const { n, heads, kvHeads, dim, structure: s } = plan;
  const rng = createRng(seed);
  const layout = channelLayout(dim);
  const root = Math.sqrt(dim);
  // Logit strengths (after the 1/√d scale) grow with ln(n) so structure keeps outweighing the n noise keys.
  const lambda = Math.log(Math.max(n, 64));
  const strength = { sink: 1.1 * lambda, band: 0.9 * lambda, vertical: 0.8 * lambda, slash: 0.8 * lambda };

  const q = createHeadTensor(heads, n, dim);
  const k = createHeadTensor(kvHeads, n, dim);
  const v = createHeadTensor(kvHeads, n, dim);
  for (let i = 0; i < v.data.length; i++) v.data[i] = rng.normal();

  const processes: Float32Array[] = [];
  const P = layout.positional;
  for (let g = 0; g < kvHeads; g++) {
    const u = positionalProcess(n, P.count, s.band, rng);
    processes.push(u);
    const verticals = new Set(distinctInRange(rng, s.verticals, s.sinks, n));
    for (let j = 0; j < n; j++) {
      const base = (g * n + j) * dim;
      if (j < s.sinks) k.data[base + layout.sink] = 1;
      if (verticals.has(j)) k.data[base + layout.vertical] = 1;
      for (let c = 0; c < P.count; c++) k.data[base + P.start + c] = u[j * P.count + c] as number;
    }
  }

  const needles: Needle[] = [];
  const needleChannelUsed = new Int32Array(kvHeads);
  for (let h = 0; h < heads; h++) {
    const g = kvHeadOf(h, heads, kvHeads);
    const u = processes[g] as Float32Array;
    const weight = () => 0.6 + 0.5 * rng.next();
    const w = { sink: weight(), band: weight(), vertical: weight(), slash: weight() };
    const offsets = slashOffsets(rng, s.slashes, s.band, n);
    for (let i = 0; i < n; i++) {
      const base = (h * n + i) * dim;
      q.data[base + layout.sink] = root * strength.sink * w.sink;
      q.data[base + layout.vertical] = root * strength.vertical * w.vertical;
      for (let c = 0; c < P.count; c++) {
        let x = strength.band * w.band * (u[i * P.count + c] as number);
        for (const d of offsets) if (i - d >= 0) x += strength.slash * w.slash * (u[(i - d) * P.count + c] as number);
        q.data[base + P.start + c] = root * x;
      }
    }
    // Needles: query rows in the second half, keys deep in the past (beyond sinks and the band).
    const first = plan.needleWindow === undefined ? Math.floor(n / 2) : n - plan.needleWindow;
    const rows = distinctInRange(rng, s.needles, Math.max(first, 2 * s.band + s.sinks + 2), n);
    for (const qRow of rows) {
      const key = s.sinks + rng.int(Math.max(1, qRow - s.band - s.sinks));
      const channel = layout.needle.start + (needleChannelUsed[g] as number);
      needleChannelUsed[g] = (needleChannelUsed[g] as number) + 1;
      k.data[(g * n + key) * dim + channel] = 1;
      // The boost makes the needle's logit exceed the log-sum-exp of the rest of its row by ln 7 (mass ≈ 7/8).
      const { rest, atKey } = rowLogits(q.data, k.data, h, g, qRow, key, n, dim);
      q.data[(h * n + qRow) * dim + channel] = root * Math.max(0, rest + Math.log(7) - atKey);
      needles.push({ head: h, qRow, key });
    }
  }
  return { layer: index, q, k, v, needles };
}
