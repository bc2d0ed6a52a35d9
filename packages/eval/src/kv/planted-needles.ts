import { createHeadTensor, type HeadTensor, SparselandError } from '@sparseland/core';
import { createRng, describeValue, expectInteger, type KvPolicy, LayerKvCache } from '@sparseland/core/kit';

export interface PlantedNeedleOptions {
  /** The policy under test (query-aware selection: Quest, TidalDecode, Double Sparsity...). */
  readonly policy: KvPolicy;
  /** Cached tokens before the decode step (default 32,768). */
  readonly context?: number;
  /** Layers (default 6: a selection layer needs dense layers before it and layers after it). */
  readonly layers?: number;
  readonly qHeads?: number;
  readonly kvHeads?: number;
  readonly dim?: number;
  /** Needles planted, one decode step each (default 10). */
  readonly trials?: number;
  /** Norm of the needle key (default 20: about half the exact softmax mass at 32K with dim 64). */
  readonly strength?: number;
  readonly seed?: number;
}

export interface PlantedNeedleResult {
  readonly policy: string;
  readonly context: number;
  readonly layers: number;
  readonly trials: number;
  /** Trials whose needle every layer and kv head read (layers without a selection read everything). */
  readonly found: number;
  readonly rate: number;
  /** Mean exact softmax mass of the needle (over trials, layers and query heads): how hard the needle is. */
  readonly needleMass: number;
  /** Mean slots a kv head read in the layers that selected. */
  readonly selectedPerHead: number;
}

/**
 * A planted decode needle: random keys and values fill a long cache in every layer; one earlier position (far from
 * the recent window) gets, in every layer and kv head, a key pointing along the decode query of that head's group,
 * so exact attention puts a large share of the mass on it; then one decode step runs the policy's hooks layer by
 * layer. The needle is found when every layer's selection (and cache) still holds it for every kv head.
 */
export function plantedDecodeNeedles(options: PlantedNeedleOptions): PlantedNeedleResult {
  if (typeof options !== 'object' || options === null || typeof options.policy !== 'object') {
    throw new SparselandError('E_PARAMS', `plantedDecodeNeedles: expected {policy, ...}, got ${describeValue(options)}`);
  }
  const context = expectInteger(options.context ?? 32768, 'context', 64, 1 << 21);
  const layers = expectInteger(options.layers ?? 6, 'layers', 1, 64);
  const qHeads = expectInteger(options.qHeads ?? 8, 'qHeads', 1, 256);
  const kvHeads = expectInteger(options.kvHeads ?? 2, 'kvHeads', 1, qHeads);
  const dim = expectInteger(options.dim ?? 64, 'dim', 2, 1024);
  const trials = expectInteger(options.trials ?? 10, 'trials', 1, 10000);
  const strength = options.strength ?? 20;
  const rng = createRng(options.seed ?? 1);
  const group = qHeads / kvHeads;
  const random = (heads: number, length: number): HeadTensor => {
    const t = createHeadTensor(heads, length, dim);
    for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal();
    return t;
  };
  // One background per layer, reused by every trial (the needle row is written, then restored).
  const backgrounds = Array.from({ length: layers }, () => ({ k: random(kvHeads, context), v: random(kvHeads, context) }));
  const promptQueries = random(qHeads, 32);
  let found = 0;
  let massSum = 0;
  let massCount = 0;
  let selectedSum = 0;
  let selectedCount = 0;
  for (let trial = 0; trial < trials; trial++) {
    // Far from the newest tokens (a recent window would find it for free) and past the first pages.
    const needle = 64 + Math.floor(rng.next() * Math.max(1, context - 4096 - 64));
    const session = {};
    let hit = true;
    for (let l = 0; l < layers; l++) {
      const { k, v } = backgrounds[l] as { k: HeadTensor; v: HeadTensor };
      const q = random(qHeads, 1);
      const saved = new Float32Array(kvHeads * dim);
      for (let g = 0; g < kvHeads; g++) {
        const at = (g * context + needle) * dim;
        saved.set(k.data.subarray(at, at + dim), g * dim);
        const dir = new Float64Array(dim);
        for (let h = g * group; h < (g + 1) * group; h++)
          for (let c = 0; c < dim; c++) dir[c] = (dir[c] as number) + (q.data[h * dim + c] as number);
        const norm = Math.hypot(...dir);
        for (let c = 0; c < dim; c++) k.data[at + c] = ((dir[c] as number) / norm) * strength;
      }
      const cache = new LayerKvCache(l, kvHeads, dim, context + 1);
      cache.append(k, v, 0);
      options.policy.afterPrefill?.(cache, promptQueries, { layer: l, layers, step: 0, position: context - 1, session });
      const newest = random(kvHeads, 1);
      cache.append(newest, random(kvHeads, 1), context);
      const ctx = { layer: l, layers, step: 1, position: context, session };
      const selection = options.policy.select?.(cache, q, ctx);
      for (let g = 0; g < kvHeads; g++) {
        const positions = cache.positions(g);
        const read = selection ? Array.from(selection.slotsOf(g), (s) => positions[s] as number) : Array.from(positions);
        if (selection) {
          selectedSum += read.length;
          selectedCount++;
        }
        if (!read.includes(needle)) hit = false;
        for (let h = g * group; h < (g + 1) * group; h++) {
          massSum += needleMass(q.data.subarray(h * dim, (h + 1) * dim), cache.keys(g), positions, needle, dim);
          massCount++;
        }
      }
      options.policy.afterAppend?.(cache, q, ctx);
      for (let g = 0; g < kvHeads; g++) k.data.set(saved.subarray(g * dim, (g + 1) * dim), (g * context + needle) * dim);
    }
    if (hit) found++;
  }
  return {
    policy: options.policy.name,
    context,
    layers,
    trials,
    found,
    rate: found / trials,
    needleMass: massSum / Math.max(1, massCount),
    selectedPerHead: selectedCount ? selectedSum / selectedCount : context + 1,
  };
}

/** Exact softmax mass (float64) of the needle's position for one query row over every cached key. */
function needleMass(q: Float32Array, keys: Float32Array, positions: Int32Array, needle: number, dim: number): number {
  const n = positions.length;
  const logits = new Float64Array(n);
  let max = -Infinity;
  let at = -1;
  for (let s = 0; s < n; s++) {
    let dot = 0;
    for (let c = 0; c < dim; c++) dot += (q[c] as number) * (keys[s * dim + c] as number);
    logits[s] = dot / Math.sqrt(dim);
    if ((logits[s] as number) > max) max = logits[s] as number;
    if (positions[s] === needle) at = s;
  }
  let sum = 0;
  for (let s = 0; s < n; s++) sum += Math.exp((logits[s] as number) - max);
  return at < 0 ? 0 : Math.exp((logits[at] as number) - max) / sum;
}
