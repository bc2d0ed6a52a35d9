import { type AttentionShape, kvHeadOf, sliceHeads } from '@sparseland/core';
import { resolveAttentionShape } from '@sparseland/core/kit';
import { computeDenseOracle, type DenseOracle } from '@sparseland/eval';
import { denseAttentionMap } from '@sparseland/model';
import type { TraceItem } from './protocol.js';

/** Bytes of dense oracles kept at once (probabilities are heads × N² float32 per layer). */
export const ORACLE_CACHE_BYTES = 320 * 1024 * 1024;

/**
 * The captured layers of the current passage, delivered one by one while the model runs, and each layer's dense
 * float64 oracle (every query row's exact softmax and output), computed on demand and kept within a byte budget.
 * The oracle is both the attention map the page draws and what every method is measured against.
 */
export class TraceStore {
  private readonly layers = new Map<number, TraceItem>();
  private readonly waiting = new Map<number, { resolve(item: TraceItem): void; reject(error: Error): void }[]>();
  private readonly oracles = new Map<number, DenseOracle>();
  private readonly computing = new Map<number, Promise<DenseOracle>>();
  private failure: Error | undefined;

  constructor(readonly layerCount: number) {}

  add(item: TraceItem): void {
    this.layers.set(item.layer, item);
    for (const w of this.waiting.get(item.layer) ?? []) w.resolve(item);
    this.waiting.delete(item.layer);
  }

  /** The capture failed or was superseded: everyone still waiting gets the error. */
  fail(error: Error): void {
    this.failure = error;
    for (const list of this.waiting.values()) for (const w of list) w.reject(error);
    this.waiting.clear();
  }

  layer(layer: number): Promise<TraceItem> {
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layerCount) {
      return Promise.reject(new Error(`layer must be an integer in [0, ${this.layerCount}), got ${layer}`));
    }
    const item = this.layers.get(layer);
    if (item) return Promise.resolve(item);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(layer) ?? [];
      list.push({ resolve, reject });
      this.waiting.set(layer, list);
    });
  }

  /** Every layer once captured, in order. */
  async all(): Promise<TraceItem[]> {
    const out: TraceItem[] = [];
    for (let l = 0; l < this.layerCount; l++) out.push(await this.layer(l));
    return out;
  }

  /**
   * One head's dense softmax, N×N: a slice of the oracle when it is there, else computed for that head alone (a
   * quarter of the oracle's work on a 4-head layer: the first picture does not wait for the other heads).
   */
  async map(layer: number, head: number): Promise<Float32Array> {
    const item = await this.layer(layer);
    const n = item.k.length;
    const oracle = this.oracles.get(layer);
    if (oracle) return oracle.probs.slice(head * n * n, (head + 1) * n * n);
    return denseAttentionMap(item, head);
  }

  async oracle(layer: number): Promise<{ item: TraceItem; shape: AttentionShape; oracle: DenseOracle }> {
    const item = await this.layer(layer);
    const shape = resolveAttentionShape(item);
    let oracle = this.oracles.get(layer);
    if (oracle) {
      // Most recently used last.
      this.oracles.delete(layer);
      this.oracles.set(layer, oracle);
      return { item, shape, oracle };
    }
    let pending = this.computing.get(layer);
    if (!pending) {
      pending = this.computeOracle(item, shape);
      this.computing.set(layer, pending);
    }
    try {
      oracle = await pending;
    } finally {
      this.computing.delete(layer);
    }
    if (!this.oracles.has(layer)) {
      this.evictFor(oracle.probs.byteLength + oracle.output.byteLength);
      this.oracles.set(layer, oracle);
    }
    return { item, shape, oracle };
  }

  /**
   * eval's `computeDenseOracle` over every row, one query head at a time (each head with its own kv head: the same
   * arithmetic as the whole layer at once), yielding between heads so that maps and overlays asked for meanwhile
   * are not held up for the whole layer.
   */
  private async computeOracle(item: TraceItem, shape: AttentionShape): Promise<DenseOracle> {
    const { heads, kvHeads, qLength, kvLength, dim } = shape;
    const rows = Array.from({ length: qLength }, (_, i) => i);
    const probs = new Float32Array(heads * qLength * kvLength);
    const output = new Float64Array(heads * qLength * dim);
    for (let h = 0; h < heads; h++) {
      const g = kvHeadOf(h, heads, kvHeads);
      const one = { q: sliceHeads(item.q, h), k: sliceHeads(item.k, g), v: sliceHeads(item.v, g) };
      const part = computeDenseOracle(one, resolveAttentionShape(one), rows, true);
      probs.set(part.probs, h * qLength * kvLength);
      output.set(part.output, h * qLength * dim);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    return { shape, causal: true, rows, probs, output };
  }

  private evictFor(bytes: number): void {
    let held = bytes;
    for (const o of this.oracles.values()) held += o.probs.byteLength + o.output.byteLength;
    for (const [layer, o] of this.oracles) {
      if (held <= ORACLE_CACHE_BYTES) break;
      held -= o.probs.byteLength + o.output.byteLength;
      this.oracles.delete(layer);
    }
  }
}
