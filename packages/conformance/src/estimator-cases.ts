import {
  attentionRecall,
  type Backend,
  BlockMask,
  ColumnMask,
  countKeptPairs,
  createHeadTensor,
  type EstimatorPlugin,
  type HeadTensor,
  kvHeadOf,
  referenceAttention,
  type SparseMask,
  sparseMaskContains,
  sparseMaskToDense,
  toSparseMask,
} from '@sparseland/core';
import {
  type CostMeter,
  createCostMeter,
  createRng,
  type Estimator,
  fillRowMembership,
  isEstimateResult,
  resolveAttentionShape,
} from '@sparseland/core/kit';
import type { OnBackendCase } from './case.js';
import { type CaseShape, caseInputs } from './inputs.js';

/** The geometry of one estimator case: a CaseShape plus the call's causality and the recipe's block sizes. */
export interface EstimatorShape extends CaseShape {
  readonly causal: boolean;
  readonly blockQ: number;
  readonly blockK: number;
}

/** Odd sizes, GQA, chunked queries, one-token decode and a non-causal call. */
export const DEFAULT_ESTIMATOR_SHAPES: readonly EstimatorShape[] = Object.freeze([
  { qHeads: 4, kvHeads: 2, qLength: 37, kvLength: 37, dim: 8, causal: true, blockQ: 8, blockK: 8 },
  { qHeads: 2, kvHeads: 1, qLength: 100, kvLength: 100, dim: 16, causal: true, blockQ: 16, blockK: 32 },
  { qHeads: 4, kvHeads: 2, qLength: 19, kvLength: 83, qOffset: 64, dim: 8, causal: true, blockQ: 8, blockK: 16 },
  { qHeads: 2, kvHeads: 2, qLength: 1, kvLength: 130, qOffset: 129, dim: 8, causal: true, blockQ: 16, blockK: 16 },
  { qHeads: 4, kvHeads: 1, qLength: 50, kvLength: 50, dim: 8, causal: false, blockQ: 16, blockK: 16 },
  // Query blocks taller than key blocks: one query block spans several key blocks on the diagonal.
  { qHeads: 4, kvHeads: 2, qLength: 150, kvLength: 150, dim: 8, causal: true, blockQ: 64, blockK: 16 },
]);

/** The planted-structure geometry: long enough for every estimator to be sparse with small parameters. */
export const PLANTED_SHAPE: EstimatorShape = Object.freeze({
  qHeads: 4,
  kvHeads: 2,
  qLength: 512,
  kvLength: 512,
  dim: 64,
  causal: true,
  blockQ: 16,
  blockK: 16,
});

export interface EstimatorCaseOptions {
  /** Parameter sets checked besides the defaults (valid, causal, deterministic masks on every shape). */
  readonly paramSets?: readonly Record<string, unknown>[];
  /** Parameters of the planted-structure check; they must give a sparse mask (density < 0.9) on PLANTED_SHAPE. */
  readonly plantedParams?: Record<string, unknown>;
  readonly shapes?: readonly EstimatorShape[];
  /** Seed passed to the estimator (default 7). */
  readonly seed?: number;
}

/** What running an estimator once returned. */
export interface EstimatorRun {
  readonly mask: SparseMask;
  readonly cost: CostMeter;
}

/** Runs an estimator plugin on an input the way `attention()` does. */
export async function runEstimator(
  plugin: EstimatorPlugin,
  params: Record<string, unknown>,
  input: { q: HeadTensor; k: HeadTensor; v: HeadTensor; qOffset?: number },
  options: EstimatorRunOptions,
): Promise<EstimatorRun> {
  return runBuilt(plugin.build(plugin.parseParams(params)), input, options);
}

/** How runEstimator calls the estimator: the backend, causality, the recipe's block sizes, seed and layer. */
export interface EstimatorRunOptions {
  readonly backend: Backend;
  readonly causal: boolean;
  readonly blockQ: number;
  readonly blockK: number;
  readonly seed: number;
  readonly layer?: number;
}

/** Calls an already built estimator once, as runEstimator does. */
async function runBuilt(
  estimate: Estimator,
  input: { q: HeadTensor; k: HeadTensor; v: HeadTensor; qOffset?: number },
  options: EstimatorRunOptions,
): Promise<EstimatorRun> {
  const shape = resolveAttentionShape(input);
  const cost = createCostMeter();
  const result = await estimate(
    { q: input.q, k: input.k, v: input.v, shape, causal: options.causal },
    { backend: options.backend, cost, seed: options.seed, layer: options.layer ?? 0, blockQ: options.blockQ, blockK: options.blockK },
  );
  return { mask: isEstimateResult(result) ? result.mask : result, cost };
}

/**
 * Throws unless `mask` is a well-formed SparseMask for the call: it fits the geometry (heads equal or 1), its
 * BlockMask and ColumnMask pass their structural checks and use the requested block sizes and, for a causal call,
 * no key block starts and no column lies after the last query of its block (causality clips inside blocks only).
 */
export function checkEstimatorMask(mask: SparseMask, shape: EstimatorShape, label: string): void {
  const fail = (msg: string): never => {
    throw new Error(`${label}: ${msg}`);
  };
  if (typeof mask !== 'object' || mask === null) fail(`expected a SparseMask, got ${String(mask)}`);
  const geometry = {
    heads: shape.qHeads,
    qLength: shape.qLength,
    kvLength: shape.kvLength,
    qOffset: shape.qOffset ?? shape.kvLength - shape.qLength,
  };
  const sparse = toSparseMask(mask, geometry);
  const lastPos = (qb: number, blockQ: number) => geometry.qOffset + Math.min(geometry.qLength, (qb + 1) * blockQ) - 1;
  if (sparse.blocks) {
    const b = sparse.blocks;
    if (b.blockQ !== shape.blockQ || b.blockK !== shape.blockK) {
      fail(`BlockMask uses ${b.blockQ}×${b.blockK} blocks, the recipe asked for ${shape.blockQ}×${shape.blockK}`);
    }
    // Re-run the structural checks that trusted construction skipped.
    new BlockMask({ ...b.shape, blockQ: b.blockQ, blockK: b.blockK, full: b.full, partial: b.partial, maskMod: b.maskMod });
    if (shape.causal) {
      for (let h = 0; h < b.heads; h++) {
        for (let qb = 0; qb < b.qBlocks; qb++) {
          for (const kb of [...b.fullBlocks(h, qb), ...b.partialBlocks(h, qb)]) {
            if (kb * b.blockK > lastPos(qb, b.blockQ))
              fail(`causal call keeps key block ${kb} for query block ${qb} of head ${h}, entirely in the future`);
          }
        }
      }
    }
  }
  if (sparse.columns) {
    const c = sparse.columns;
    if (c.blockQ !== shape.blockQ) fail(`ColumnMask uses blockQ ${c.blockQ}, the recipe asked for ${shape.blockQ}`);
    new ColumnMask({ ...c.shape, blockQ: c.blockQ, rowPtr: c.rowPtr, cols: c.cols });
    if (shape.causal) {
      for (let h = 0; h < c.heads; h++) {
        for (let qb = 0; qb < c.qBlocks; qb++) {
          const cols = c.columns(h, qb);
          const last = cols[cols.length - 1];
          if (last !== undefined && last > lastPos(qb, c.blockQ))
            fail(`causal call keeps column ${last} for query block ${qb} of head ${h}, after its last query`);
        }
      }
    }
  }
}

/**
 * Throws unless no query row is left without keys: a row that keeps no key at all returns zeros and lse = -Infinity,
 * a silently wrong answer. In a causal call every row must keep its own key (the key at its position: the local
 * window, the diagonal block, MoBA's current chunk — the one key every causal row is sure to be able to see); in a
 * non-causal call every row must keep at least one key.
 */
export function checkOwnKeys(mask: SparseMask, shape: EstimatorShape, label: string): void {
  const qOffset = shape.qOffset ?? shape.kvLength - shape.qLength;
  const row = new Uint8Array(shape.kvLength);
  for (let h = 0; h < shape.qHeads; h++) {
    for (let i = 0; i < shape.qLength; i++) {
      const pos = qOffset + i;
      if (shape.causal) {
        if (!sparseMaskContains(mask, h, pos, pos))
          throw new Error(`${label}: query row ${i} (position ${pos}) of head ${h} does not keep its own key`);
        continue;
      }
      fillRowMembership(mask, h, i, qOffset, false, row);
      if (!row.includes(1)) throw new Error(`${label}: query row ${i} (position ${pos}) of head ${h} keeps no key`);
    }
  }
}

/**
 * Q, K, V with planted structure whose true attention is known: two sink keys and a few heavy key columns per kv
 * head, a local band (each query matches its own key and the two before) and one far diagonal per query head.
 * Heavy columns get logit +8 and band and diagonal matches +10 over a noise floor with a spread of about 2.5, so
 * most of each row's mass sits on the structure (at dim 64).
 */
export function plantedInputs(shape: CaseShape, seed: number): { q: HeadTensor; k: HeadTensor; v: HeadTensor } {
  const { qHeads, kvHeads, kvLength: n, dim } = shape;
  const rng = createRng(seed);
  const q = createHeadTensor(qHeads, shape.qLength, dim);
  const k = createHeadTensor(kvHeads, n, dim);
  const v = createHeadTensor(kvHeads, n, dim);
  for (let i = 0; i < v.data.length; i++) v.data[i] = rng.normal();
  const root = Math.sqrt(dim);
  const code = new Float32Array(kvHeads * n * (dim - 1));
  for (let i = 0; i < code.length; i++) code[i] = rng.normal() / Math.sqrt(dim - 1);
  for (let g = 0; g < kvHeads; g++) {
    const heavy = new Set([0, 1, ...Array.from({ length: 3 }, () => 2 + rng.int(n - 2))]);
    for (let j = 0; j < n; j++) {
      const base = (g * n + j) * dim;
      if (heavy.has(j)) k.data[base] = 1;
      for (let c = 1; c < dim; c++) k.data[base + c] = code[(g * n + j) * (dim - 1) + c - 1] as number;
    }
  }
  const qOffset = shape.qOffset ?? n - shape.qLength;
  for (let h = 0; h < qHeads; h++) {
    const g = kvHeadOf(h, qHeads, kvHeads);
    const far = Math.floor(n / 4) + rng.int(Math.max(1, Math.floor(n / 4)));
    for (let i = 0; i < shape.qLength; i++) {
      const pos = qOffset + i;
      const base = (h * shape.qLength + i) * dim;
      q.data[base] = 8 * root;
      for (const j of [pos, pos - 1, pos - 2, pos - far]) {
        if (j < 0 || j >= n) continue;
        for (let c = 1; c < dim; c++)
          q.data[base + c] = (q.data[base + c] as number) + 10 * root * (code[(g * n + j) * (dim - 1) + c - 1] as number);
      }
    }
  }
  return { q, k, v };
}

/**
 * A random mask with the same kept count as `mask` in every (head, query row), columns drawn uniformly among the
 * row's visible keys: the baseline an estimator's recall must beat.
 */
export function randomMaskLike(mask: SparseMask, shape: EstimatorShape, seed: number): SparseMask {
  const rng = createRng(seed);
  const qOffset = shape.qOffset ?? shape.kvLength - shape.qLength;
  const row = new Uint8Array(shape.kvLength);
  return {
    columns: ColumnMask.build(
      { heads: shape.qHeads, qLength: shape.qLength, kvLength: shape.kvLength, qOffset },
      1,
      { trusted: true },
      (h, i, out) => {
        fillRowMembership(mask, h, i, qOffset, shape.causal, row);
        let kept = 0;
        for (let j = 0; j < row.length; j++) kept += row[j] as number;
        const visible = shape.causal ? Math.min(shape.kvLength, qOffset + i + 1) : shape.kvLength;
        // Partial Fisher–Yates over the visible keys.
        const keys = Int32Array.from({ length: visible }, (_, j) => j);
        for (let t = 0; t < kept; t++) {
          const s = t + rng.int(visible - t);
          const x = keys[t] as number;
          keys[t] = keys[s] as number;
          keys[s] = x;
        }
        out.pushAll(keys.subarray(0, kept).sort());
      },
    ),
  };
}

function sameDense(a: SparseMask, b: SparseMask, shape: EstimatorShape): boolean {
  const geometry = {
    heads: shape.qHeads,
    qLength: shape.qLength,
    kvLength: shape.kvLength,
    qOffset: shape.qOffset ?? shape.kvLength - shape.qLength,
  };
  const x = sparseMaskToDense(a, geometry, { causal: shape.causal });
  const y = sparseMaskToDense(b, geometry, { causal: shape.causal });
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * The estimator cases on a backend (metadata is `metadataCase`, agreement with the reference
 * `estimatorAgreementCases`): on every shape and parameter set a valid mask with the recipe's block
 * sizes, causal when asked, every row keeping a key (its own key when causal), finite non-negative FLOPs, deterministic for a seed, and finite reference attention
 * through it; and on planted structure a recall above a random mask with the same kept count in every row.
 */
export function estimatorCases(plugin: EstimatorPlugin, options: EstimatorCaseOptions = {}): OnBackendCase[] {
  const shapes = options.shapes ?? DEFAULT_ESTIMATOR_SHAPES;
  const seed = options.seed ?? 7;
  const paramSets: Record<string, unknown>[] = [{}, ...(options.paramSets ?? [])];
  const cases: OnBackendCase[] = [];
  paramSets.forEach((params, index) => {
    const label = index === 0 ? 'default params' : `params ${JSON.stringify(params)}`;
    cases.push({
      name: `${label}: valid masks with the recipe's block sizes on odd shapes, causal when asked, no row without keys (causal: its own key), deterministic, finite FLOPs`,
      async run(backend) {
        for (const shape of shapes) {
          const where = `${plugin.name} ${label}, shape ${JSON.stringify(shape)}`;
          const input = caseInputs(shape, 11);
          const options2 = { backend, causal: shape.causal, blockQ: shape.blockQ, blockK: shape.blockK, seed };
          const first = await runEstimator(plugin, params, input, options2);
          checkEstimatorMask(first.mask, shape, where);
          checkOwnKeys(first.mask, shape, where);
          const flops = first.cost.total;
          if (!Number.isFinite(flops) || flops < 0) throw new Error(`${where}: reported ${flops} FLOPs`);
          const again = await runEstimator(plugin, params, input, options2);
          if (!sameDense(first.mask, again.mask, shape)) throw new Error(`${where}: the same seed gave a different mask`);
          const result = referenceAttention(input, { mask: first.mask, causal: shape.causal });
          for (let i = 0; i < result.output.data.length; i++) {
            if (!Number.isFinite(result.output.data[i] as number))
              throw new Error(`${where}: reference attention through the mask is not finite`);
          }
        }
      },
    });
    cases.push({
      name: `${label}: one built estimator reused (every shape in turn, then every shape at once) gives a fresh build's masks`,
      async run(backend) {
        // The recipe builds a method once and calls it for every layer and forward pass, sometimes concurrently:
        // buffers or caches it keeps between calls must not change a mask.
        const items = shapes.map((shape) => ({
          shape,
          input: caseInputs(shape, 13),
          options: { backend, causal: shape.causal, blockQ: shape.blockQ, blockK: shape.blockK, seed },
        }));
        const fresh = await Promise.all(items.map(({ input, options }) => runEstimator(plugin, params, input, options)));
        const built = plugin.build(plugin.parseParams(params));
        const call = async (i: number, how: string) => {
          const item = items[i] as (typeof items)[number];
          const run = await runBuilt(built, item.input, item.options);
          if (!sameDense((fresh[i] as EstimatorRun).mask, run.mask, item.shape))
            throw new Error(`${plugin.name}: ${how}, shape ${JSON.stringify(item.shape)} gave a mask other than a fresh build's`);
        };
        const indices = items.map((_, i) => i);
        for (const i of [...indices, ...[...indices].reverse()]) await call(i, 'called again');
        await Promise.all(indices.map((i) => call(i, 'called at once with the other shapes')));
      },
    });
  });
  cases.push({
    name: 'on planted structure, keeps more attention mass than a random mask with the same kept count per row',
    async run(backend) {
      const shape = PLANTED_SHAPE;
      const input = plantedInputs(shape, 5);
      const { mask, cost } = await runEstimator(plugin, options.plantedParams ?? {}, input, {
        backend,
        causal: true,
        blockQ: shape.blockQ,
        blockK: shape.blockK,
        seed,
      });
      checkEstimatorMask(mask, shape, `${plugin.name} planted`);
      const geometry = { heads: shape.qHeads, qLength: shape.qLength, kvLength: shape.kvLength, qOffset: 0 };
      const { kept, total } = countKeptPairs(mask, geometry, { causal: true });
      const density = kept / total;
      if (density >= 0.9) {
        throw new Error(
          `${plugin.name}: the planted check needs a sparse mask, got density ${density.toFixed(3)}; pass plantedParams that keep fewer keys`,
        );
      }
      if (!(cost.total > 0)) throw new Error(`${plugin.name}: reported no estimation FLOPs on the planted input`);
      const rows = Array.from({ length: 64 }, (_, r) => Math.floor(((r + 0.5) * shape.qLength) / 64));
      const ours = attentionRecall(input, mask, { rows }).mean;
      const random = attentionRecall(input, randomMaskLike(mask, shape, 3), { rows }).mean;
      if (!(ours > random)) {
        throw new Error(
          `${plugin.name}: recall ${ours.toFixed(3)} does not beat a random mask of the same density ${density.toFixed(3)} (${random.toFixed(3)})`,
        );
      }
    },
  });
  return cases;
}
