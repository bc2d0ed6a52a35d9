// A small harness for policy tests: seeded prompt and decode rows for one or more layers, fed through a policy's
// hooks exactly as the model runtime calls them, with every key, value and query kept by position for the oracles.
import { createHeadTensor, type HeadTensor, type TokenSelection } from '@sparseland/core';
import { createRng, type KvPolicy, type KvPolicyContext, LayerKvCache } from '@sparseland/core/kit';

export interface DriveShape {
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly dim: number;
  readonly prompt: number;
  readonly steps: number;
  readonly layers?: number;
  readonly seed?: number;
}

/** Everything written, by layer: q [Hq][pos][d], k and v [Hkv][pos][d] as plain nested arrays of the whole run. */
export interface History {
  q: number[][][][];
  k: number[][][][];
  v: number[][][][];
}

export interface StepRecord {
  /** Decode step (0 = after prefill). */
  readonly step: number;
  readonly layer: number;
  /** Positions each kv head holds after the hook. */
  readonly held: number[][];
  /** Positions each kv head's selection reads (decode steps of select policies). */
  readonly selected?: number[][] | undefined;
  readonly packed: number[];
}

/** Rows with some structure: a few heavy keys (large norm), queries correlated with random earlier keys. */
function rowsFor(rng: ReturnType<typeof createRng>, heads: number, count: number, dim: number, scale: number): HeadTensor {
  const t = createHeadTensor(heads, count, dim);
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * scale;
  return t;
}

export function drive(policy: KvPolicy, shape: DriveShape): { records: StepRecord[]; history: History; caches: LayerKvCache[] } {
  const layers = shape.layers ?? 1;
  const rng = createRng(shape.seed ?? 1);
  const session = {};
  const caches = Array.from({ length: layers }, (_, l) => new LayerKvCache(l, shape.kvHeads, shape.dim));
  const history: History = { q: [], k: [], v: [] };
  const records: StepRecord[] = [];
  const keep = (l: number, q: HeadTensor, k: HeadTensor, v: HeadTensor) => {
    const add = (into: number[][][][], t: HeadTensor) => {
      into[l] ??= Array.from({ length: t.heads }, () => []);
      for (let h = 0; h < t.heads; h++) {
        for (let i = 0; i < t.length; i++)
          (into[l]![h] as number[][]).push(Array.from(t.data.subarray((h * t.length + i) * t.dim, (h * t.length + i + 1) * t.dim)));
      }
    };
    add(history.q, q);
    add(history.k, k);
    add(history.v, v);
  };
  const snapshot = (step: number, layer: number, selection?: TokenSelection): StepRecord => {
    const cache = caches[layer] as LayerKvCache;
    const held = Array.from({ length: shape.kvHeads }, (_, g) => Array.from(cache.positions(g)));
    return {
      step,
      layer,
      held,
      selected: selection ? held.map((positions, g) => Array.from(selection.slotsOf(g), (s) => positions[s] as number)) : undefined,
      packed: Array.from({ length: shape.kvHeads }, (_, g) => cache.packedLength(g)),
    };
  };
  for (let l = 0; l < layers; l++) {
    const q = rowsFor(rng, shape.qHeads, shape.prompt, shape.dim, 1.5);
    const k = rowsFor(rng, shape.kvHeads, shape.prompt, shape.dim, 1);
    const v = rowsFor(rng, shape.kvHeads, shape.prompt, shape.dim, 1);
    keep(l, q, k, v);
    const cache = caches[l] as LayerKvCache;
    cache.append(k, v, 0);
    const ctx: KvPolicyContext = { layer: l, layers, step: 0, position: shape.prompt - 1, session };
    policy.afterPrefill?.(cache, q, ctx);
    records.push(snapshot(0, l));
  }
  for (let step = 1; step <= shape.steps; step++) {
    const position = shape.prompt + step - 1;
    for (let l = 0; l < layers; l++) {
      const q = rowsFor(rng, shape.qHeads, 1, shape.dim, 1.5);
      const k = rowsFor(rng, shape.kvHeads, 1, shape.dim, 1);
      const v = rowsFor(rng, shape.kvHeads, 1, shape.dim, 1);
      keep(l, q, k, v);
      const cache = caches[l] as LayerKvCache;
      cache.append(k, v, position);
      const ctx: KvPolicyContext = { layer: l, layers, step, position, session };
      const selection = policy.select?.(cache, q, ctx);
      const before = snapshot(step, l, selection);
      policy.afterAppend?.(cache, q, ctx);
      records.push({ ...snapshot(step, l), selected: before.selected });
    }
  }
  return { records, history, caches };
}

/** softmax over the given key positions of one query row (float64), as a map position -> probability. */
export function softmaxOver(q: number[], keys: number[][], positions: readonly number[]): Map<number, number> {
  const d = q.length;
  const logits = positions.map((p) => {
    let dot = 0;
    for (let c = 0; c < d; c++) dot += (q[c] as number) * ((keys[p] as number[])[c] as number);
    return dot / Math.sqrt(d);
  });
  const max = Math.max(...logits);
  const exps = logits.map((x) => Math.exp(x - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return new Map(positions.map((p, i) => [p, (exps[i] as number) / sum]));
}

/** The k positions with the highest score; protected ones first (newest first), ties to the later position. */
export function topPositions(
  candidates: readonly number[],
  score: (p: number) => number,
  k: number,
  isProtected: (p: number) => boolean = () => false,
): number[] {
  const sorted = [...candidates].sort((a, b) => {
    const pa = isProtected(a) ? 1 : 0;
    const pb = isProtected(b) ? 1 : 0;
    if (pa !== pb) return pb - pa;
    if (pa) return b - a;
    return score(b) - score(a) || b - a;
  });
  return sorted.slice(0, k).sort((a, b) => a - b);
}

export const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
