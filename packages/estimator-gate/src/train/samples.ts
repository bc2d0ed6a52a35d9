import type { AttentionShape } from '@sparseland/core';
import { type Backend, createReferenceBackend, type HeadTensor, SparselandError } from '@sparseland/core';
import { createRng, describeValue, expectInteger, resolveAttentionShape } from '@sparseland/core/kit';
import { blockGrid } from '../block-geometry.js';
import type { GateKind } from '../gate-weights.js';
import { poolBlocks } from '../pooling.js';

/** One layer of one traced passage: its attention inputs. */
export interface TraceItem {
  readonly layer: number;
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly v: HeadTensor;
}

/**
 * What the gates learn from, for one (passage, layer): pooled inputs and targets distilled from dense attention.
 * Every array is row-major in the order its comment gives.
 */
export interface GateSample {
  readonly layer: number;
  readonly shape: AttentionShape;
  readonly blockSize: number;
  /** [heads][blocks][dim]: Q avg-pooled per block (SeerAttention's Qavg). */
  readonly qAvg: Float32Array;
  /** [kvHeads][blocks][3·dim]: K max-, min- and avg-pooled per block (Kmaxminavg). */
  readonly kPool: Float32Array;
  /**
   * [heads][blocks][blocks]: SeerAttention's ground truth, the 2D max-pool (blockSize × blockSize) of dense
   * attention's softmax map, each row normalised to sum 1 over its visible key blocks (0 elsewhere).
   */
  readonly target: Float32Array;
  /** Sparsifiner: sampled query rows, their (post-RoPE) queries [heads][rows][dim] and block masses [heads][rows][blocks]. */
  readonly rows?: { readonly index: Int32Array; readonly q: Float32Array; readonly mass: Float32Array };
  /** Sparsifiner: the keys [kvHeads][N][dim]. */
  readonly k?: Float32Array;
  /** DMA: the values [kvHeads][N][dim]. */
  readonly v?: Float32Array;
  /** DMA: per head, the attention each key receives averaged over the queries that see it, normalised to sum 1 [heads][N]. */
  readonly columns?: Float32Array;
}

export interface SampleOptions {
  /** Block size of the targets (default 64, SeerAttention's only supported size). */
  readonly blockSize?: number;
  /** Which gates the sample feeds (default: all): Sparsifiner needs rows and keys, DMA values and column masses. */
  readonly kinds?: readonly GateKind[];
  /** Query rows sampled for Sparsifiner (default 128). */
  readonly rows?: number;
  readonly seed?: number;
  /** Where dense attention runs (default: the float64 reference). */
  readonly backend?: Backend;
}

/** Largest trace a sample is built from: the dense softmax map is held per layer (heads · N² floats). */
export const MAX_SAMPLE_POSITIONS = 16384;

/** Distils one traced layer into a training sample (full prefill: qLength = kvLength, causal). */
export async function buildGateSample(trace: TraceItem, options: SampleOptions = {}): Promise<GateSample> {
  const shape = resolveAttentionShape({ q: trace.q, k: trace.k, v: trace.v });
  if (shape.qLength !== shape.kvLength) {
    throw new SparselandError(
      'E_SHAPE',
      `gate samples come from full prefill traces (qLength = kvLength), got ${shape.qLength} and ${shape.kvLength}`,
    );
  }
  const n = expectInteger(shape.qLength, 'trace length', 1, MAX_SAMPLE_POSITIONS);
  const blockSize = expectInteger(options.blockSize ?? 64, 'blockSize', 1, n);
  const kinds = options.kinds ?? ['seer-attention', 'sparsifiner', 'dma'];
  for (const kind of kinds) {
    if (!['seer-attention', 'sparsifiner', 'dma'].includes(kind))
      throw new SparselandError('E_PARAMS', `unknown gate kind ${describeValue(kind)}`);
  }
  const { heads, kvHeads, dim } = shape;
  const grid = blockGrid(shape, blockSize, blockSize, true);
  const nb = grid.qBlocks;
  const backend = options.backend ?? createReferenceBackend();
  const probs = await backend.lastQueriesAttention({ q: trace.q, k: trace.k }, { count: n, causal: true });
  if (options.backend === undefined) await backend.dispose();
  const p = probs.data;

  const target = new Float32Array(heads * nb * nb);
  const columns = kinds.includes('dma') ? new Float32Array(heads * n) : undefined;
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const row = (h * n + i) * n;
      const tb = (h * nb + Math.floor(i / blockSize)) * nb;
      for (let j = 0; j <= i; j++) {
        const x = p[row + j] as number;
        const at = tb + Math.floor(j / blockSize);
        if (x > (target[at] as number)) target[at] = x;
        if (columns) columns[h * n + j] = (columns[h * n + j] as number) + x;
      }
    }
    for (let qb = 0; qb < nb; qb++) normalise(target, (h * nb + qb) * nb, nb);
    if (columns) {
      // ZipCache's normalisation: key j is seen by n − j queries, so the causal triangle does not favour early keys.
      for (let j = 0; j < n; j++) columns[h * n + j] = (columns[h * n + j] as number) / (n - j);
      normalise(columns, h * n, n);
    }
  }

  let rows: GateSample['rows'];
  if (kinds.includes('sparsifiner')) {
    const count = expectInteger(options.rows ?? 128, 'rows', 1, n);
    const rng = createRng(options.seed ?? 0);
    const index = Int32Array.from(sampleWithoutReplacement(n, count, rng.next)).sort();
    const q = new Float32Array(heads * count * dim);
    const mass = new Float32Array(heads * count * nb);
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < count; r++) {
        const i = index[r] as number;
        q.set(trace.q.data.subarray((h * n + i) * dim, (h * n + i + 1) * dim), (h * count + r) * dim);
        const row = (h * n + i) * n;
        for (let j = 0; j <= i; j++) {
          const at = (h * count + r) * nb + Math.floor(j / blockSize);
          mass[at] = (mass[at] as number) + (p[row + j] as number);
        }
      }
    }
    rows = { index, q, mass };
  }
  return {
    layer: trace.layer,
    shape,
    blockSize,
    qAvg: poolBlocks(trace.q, blockSize, ['avg']),
    kPool: poolBlocks(trace.k, blockSize, ['max', 'min', 'avg']),
    target,
    ...(rows ? { rows, k: trace.k.data.slice(0, kvHeads * n * dim) } : {}),
    ...(columns ? { v: trace.v.data.slice(0, kvHeads * n * dim), columns } : {}),
  };
}

function normalise(a: Float32Array, at: number, n: number): void {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[at + i] as number;
  if (s > 0) for (let i = 0; i < n; i++) a[at + i] = (a[at + i] as number) / s;
}

function sampleWithoutReplacement(n: number, count: number, next: () => number): number[] {
  const pool = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(next() * (n - i));
    const t = pool[i] as number;
    pool[i] = pool[j] as number;
    pool[j] = t;
  }
  return pool.slice(0, count);
}
