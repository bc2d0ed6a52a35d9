import {
  attentionFlops,
  type Backend,
  compileRecipe,
  createReferenceBackend,
  densePairs,
  type MaskRecipe,
  type MethodRecipe,
  type RecipeDocument,
  type Registry,
  SparselandError,
  type SparseMask,
} from '@sparseland/core';
import { createCostMeter, expectNumber, resolveAttentionShape } from '@sparseland/core/kit';
import { allocate, type Option } from './allocate.js';
import { calibrationItems, type TraceSource } from './calibration.js';
import { computeHeadOracle, gatherRows, measuredRows, scoreHeads } from './head-oracle.js';

export interface SearchOptions {
  /** Calibration traces: items, an eval workload, a model trace (see TraceSource), or a list of those. */
  readonly traces: TraceSource | readonly TraceSource[];
  /** Candidate methods with parameters (e.g. `defaultCandidates(2048)`); `{ method: 'dense' }` is allowed. */
  readonly candidates: readonly MethodRecipe[];
  /** Mean cost over all heads the recipe may spend: density of the causal mask (default cost) in (0, 1]. */
  readonly budget: number;
  readonly registry: Registry;
  /** Where masks are built (default: the float64 reference backend). */
  readonly backend?: Backend;
  /** Block sizes of the recipe; every candidate is built with them (default 64 × 64). */
  readonly blockQ?: number;
  readonly blockK?: number;
  /** What a head maximises: attention recall (default) or −(relative output error). */
  readonly objective?: 'recall' | 'output-error';
  /** What the budget counts: density (default) or density plus estimation FLOPs relative to dense attention. */
  readonly cost?: 'density' | 'flops';
  /** Query rows measured per item (default: all rows up to 8M cached probabilities per item). */
  readonly rows?: number;
  readonly causal?: boolean;
  readonly seed?: number;
  readonly onProgress?: (message: string) => void;
}

/** One candidate on one head, averaged over that layer's calibration items. */
export interface CandidatePoint {
  readonly density: number;
  readonly recall: number;
  readonly outputError: number;
  /** Estimation FLOPs relative to dense attention FLOPs of the head. */
  readonly estimate: number;
}

export interface HeadChoice {
  readonly layer: number;
  readonly head: number;
  readonly candidate: number;
  readonly recipe: MethodRecipe;
  readonly point: CandidatePoint;
}

export interface SearchResult {
  /** Per-layer, per-head recipe: load it with `attention({ recipe, registry })` or a model session. */
  readonly recipe: RecipeDocument;
  readonly heads: readonly HeadChoice[];
  /** Means over heads of the chosen candidates on the calibration traces. */
  readonly summary: { readonly density: number; readonly recall: number; readonly outputError: number; readonly cost: number };
  /** Every candidate on every (layer, head): `points[layer][head][candidate]`. */
  readonly points: ReadonlyMap<number, CandidatePoint[][]>;
}

/**
 * The offline per-head search of MInference (kernel-aware, recall of each head's candidates) with MoA's elastic
 * allocation: every candidate runs on every calibration item through the same recipe machinery `attention()` uses;
 * per head its density, recall (and optionally output error) against exact float64 attention are measured; then one
 * candidate per (layer, head) is chosen to maximise the mean objective with the mean cost within `budget`. Writes a
 * RecipeDocument with a default per layer (its most common choice) and per-head overrides.
 */
export async function searchRecipe(options: SearchOptions): Promise<SearchResult> {
  const { registry, candidates } = options;
  const budget = expectNumber(options.budget, 'budget', 1e-9, 1);
  if (!Array.isArray(candidates) || candidates.length === 0) {
    throw new SparselandError('E_PARAMS', 'searchRecipe: candidates must be a non-empty array of {method, params}');
  }
  const blockQ = options.blockQ ?? 64;
  const blockK = options.blockK ?? 64;
  const causal = options.causal ?? true;
  const seed = options.seed ?? 0;
  const objective = options.objective ?? 'recall';
  const compiled = candidates.map((c, i) => {
    try {
      return compileRecipe({ blockQ, blockK, default: c }, registry);
    } catch (error) {
      if (error instanceof SparselandError) {
        throw new SparselandError(
          error.code,
          `searchRecipe: candidate ${i} (${JSON.stringify(c)}): ${error.message.replace(/^\[[A-Z_]+\] /, '')}`,
        );
      }
      throw error;
    }
  });
  const ownBackend = options.backend === undefined;
  const backend = options.backend ?? createReferenceBackend();
  // sums[layer][head][candidate], then divided by the layer's item count.
  const sums = new Map<number, { count: number; points: { density: number; recall: number; error: number; estimate: number }[][] }>();
  try {
    let index = 0;
    for await (const item of calibrationItems(options.traces)) {
      const shape = resolveAttentionShape(item);
      const count = options.rows ?? Math.max(64, Math.floor(8_000_000 / (shape.heads * shape.kvLength)));
      const rows = measuredRows(shape.qLength, count, seed + index);
      const oracle = computeHeadOracle(item, shape, rows, causal, objective === 'output-error');
      const layerSums = sums.get(item.layer) ?? { count: 0, points: [] };
      if (!sums.has(item.layer)) sums.set(item.layer, layerSums);
      if (layerSums.points.length === 0) {
        for (let h = 0; h < shape.heads; h++)
          layerSums.points.push(candidates.map(() => ({ density: 0, recall: 0, error: 0, estimate: 0 })));
      } else if (layerSums.points.length !== shape.heads) {
        throw new SparselandError(
          'E_SHAPE',
          `calibration items of layer ${item.layer} disagree on query heads: ${layerSums.points.length} and ${shape.heads}`,
        );
      }
      layerSums.count++;
      const denseFlops = attentionFlops(densePairs({ ...shape, heads: 1 }, causal), shape.dim);
      for (const [c, recipe] of compiled.entries()) {
        const cost = createCostMeter();
        const built = await recipe.build({
          input: { q: item.q, k: item.k, v: item.v, shape, causal },
          backend,
          cost,
          seed,
          layer: item.layer,
        });
        const mask: SparseMask | undefined = built.mask === 'dense' ? undefined : built.mask;
        let sparseOutput: Float32Array | undefined;
        if (objective === 'output-error') {
          const run = await backend.attend({ q: item.q, k: item.k, v: item.v, qOffset: shape.qOffset }, { mask, causal });
          sparseOutput = gatherRows(run.output, rows);
        }
        const scores = scoreHeads(oracle, mask, sparseOutput);
        for (let h = 0; h < shape.heads; h++) {
          const p = (layerSums.points[h] as { density: number; recall: number; error: number; estimate: number }[])[c];
          if (!p) continue;
          p.density += scores.density[h] as number;
          p.recall += scores.recall[h] as number;
          p.error += objective === 'output-error' ? (scores.outputError[h] as number) : 0;
          p.estimate += cost.total / shape.heads / denseFlops;
        }
      }
      options.onProgress?.(`calibrated layer ${item.layer} (item ${index + 1}) on ${candidates.length} candidates`);
      index++;
    }
  } finally {
    if (ownBackend) await backend.dispose();
  }
  if (sums.size === 0) throw new SparselandError('E_PARAMS', 'searchRecipe: the traces hold no calibration item');

  const points = new Map<number, CandidatePoint[][]>();
  const units: { layer: number; head: number; options: Option[] }[] = [];
  for (const [layer, { count, points: perHead }] of [...sums.entries()].sort((a, b) => a[0] - b[0])) {
    const averaged = perHead.map((row) =>
      row.map((p) => ({
        density: p.density / count,
        recall: p.recall / count,
        outputError: objective === 'output-error' ? p.error / count : Number.NaN,
        estimate: p.estimate / count,
      })),
    );
    points.set(layer, averaged);
    averaged.forEach((row, head) => {
      units.push({
        layer,
        head,
        options: row.map((p) => ({
          cost: p.density + (options.cost === 'flops' ? p.estimate : 0),
          value: objective === 'recall' ? p.recall : -p.outputError,
        })),
      });
    });
  }
  const choice = allocate(
    units.map((u) => u.options),
    budget,
  );
  const heads: HeadChoice[] = units.map((u, i) => {
    const candidate = choice[i] as number;
    const point = ((points.get(u.layer) as CandidatePoint[][])[u.head] as CandidatePoint[])[candidate] as CandidatePoint;
    return { layer: u.layer, head: u.head, candidate, recipe: candidates[candidate] as MethodRecipe, point };
  });
  const mean = (f: (h: HeadChoice) => number) => heads.reduce((acc, h) => acc + f(h), 0) / heads.length;
  const summary = {
    density: mean((h) => h.point.density),
    recall: mean((h) => h.point.recall),
    outputError: mean((h) => h.point.outputError),
    cost: mean((h) => h.point.density + (options.cost === 'flops' ? h.point.estimate : 0)),
  };
  return { recipe: writeRecipe(heads, candidates, { blockQ, blockK, budget, summary }), heads, summary, points };
}

/** The RecipeDocument: per layer its most common choice as default, other heads as overrides. */
function writeRecipe(
  heads: readonly HeadChoice[],
  candidates: readonly MethodRecipe[],
  info: { blockQ: number; blockK: number; budget: number; summary: SearchResult['summary'] },
): RecipeDocument {
  const mostCommon = (list: readonly HeadChoice[]) => {
    const counts = new Map<number, number>();
    for (const h of list) counts.set(h.candidate, (counts.get(h.candidate) ?? 0) + 1);
    return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
  };
  const recipeOf = (c: number): MaskRecipe => candidates[c] as MethodRecipe;
  const overall = mostCommon(heads);
  const layers: Record<string, { default: MaskRecipe; heads: Record<string, MaskRecipe> }> = {};
  for (const layer of [...new Set(heads.map((h) => h.layer))]) {
    const inLayer = heads.filter((h) => h.layer === layer);
    const common = mostCommon(inLayer);
    const overrides: Record<string, MaskRecipe> = {};
    for (const h of inLayer) if (h.candidate !== common) overrides[String(h.head)] = recipeOf(h.candidate);
    layers[String(layer)] = { default: recipeOf(common), heads: overrides };
  }
  return {
    version: 1,
    description: `sparseland searchRecipe: budget ${info.budget}, calibration density ${info.summary.density.toFixed(4)}, recall ${info.summary.recall.toFixed(4)}`,
    blockQ: info.blockQ,
    blockK: info.blockK,
    default: recipeOf(overall),
    layers,
  };
}
