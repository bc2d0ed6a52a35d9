import { type HeadTensor, kvHeadOf, type RecipeDocument, SparselandError } from '@sparseland/core';

/** Q and K of one layer (after RoPE), e.g. a trace of `@sparseland/model`'s captureTraces or an eval workload item. */
export interface ChannelCalibrationItem {
  readonly layer: number;
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly qOffset?: number;
}

/**
 * Double Sparsity's channel importance for every query head: the mean over tokens of |q_c · k_c| for the token's
 * query and its own key (post-RoPE), channel by channel.
 */
export function channelImportance(q: HeadTensor, k: HeadTensor, qOffset = Math.max(0, k.length - q.length)): Float64Array[] {
  const out: Float64Array[] = [];
  for (let h = 0; h < q.heads; h++) {
    const g = kvHeadOf(h, q.heads, k.heads);
    const importance = new Float64Array(q.dim);
    let tokens = 0;
    for (let i = 0; i < q.length; i++) {
      const pos = qOffset + i;
      if (pos >= k.length) break;
      const qb = (h * q.length + i) * q.dim;
      const kb = (g * k.length + pos) * q.dim;
      for (let c = 0; c < q.dim; c++)
        importance[c] = (importance[c] as number) + Math.abs((q.data[qb + c] as number) * (k.data[kb + c] as number));
      tokens++;
    }
    for (let c = 0; c < q.dim; c++) importance[c] = (importance[c] as number) / Math.max(1, tokens);
    out.push(importance);
  }
  return out;
}

/** The `count` most important channels of each head, ascending by channel index. */
export function topChannels(importance: readonly Float64Array[], count: number): number[][] {
  return importance.map((imp) =>
    Array.from(imp.keys())
      .sort((a, b) => (imp[b] as number) - (imp[a] as number) || a - b)
      .slice(0, count)
      .sort((a, b) => a - b),
  );
}

/**
 * Offline calibration (Double Sparsity's `offline_calibration`): averages channel importance over calibration items
 * per layer and returns, per layer, each query head's d / groupFactor most important channels.
 */
export function calibrateChannels(
  items: Iterable<ChannelCalibrationItem>,
  options: { groupFactor?: number } = {},
): Map<number, number[][]> {
  const groupFactor = options.groupFactor ?? 8;
  const sums = new Map<number, { importance: Float64Array[]; dim: number; count: number }>();
  for (const item of items) {
    const imp = channelImportance(item.q, item.k, item.qOffset);
    const acc = sums.get(item.layer);
    if (!acc) {
      sums.set(item.layer, { importance: imp, dim: item.q.dim, count: 1 });
      continue;
    }
    if (acc.importance.length !== imp.length) {
      throw new SparselandError(
        'E_SHAPE',
        `calibration items of layer ${item.layer} disagree on heads: ${acc.importance.length} and ${imp.length}`,
      );
    }
    acc.importance.forEach((a, h) => {
      for (let c = 0; c < a.length; c++) a[c] = (a[c] as number) + ((imp[h] as Float64Array)[c] as number);
    });
    acc.count++;
  }
  const out = new Map<number, number[][]>();
  for (const [layer, acc] of [...sums.entries()].sort((a, b) => a[0] - b[0])) {
    out.set(layer, topChannels(acc.importance, Math.max(1, Math.floor(acc.dim / groupFactor))));
  }
  return out;
}

/** A per-layer recipe running `double-sparsity` with each layer's calibrated channels. */
export function doubleSparsityRecipe(channels: ReadonlyMap<number, number[][]>, params: Record<string, unknown> = {}): RecipeDocument {
  const layers: Record<string, { default: { method: string; params: Record<string, unknown> } }> = {};
  for (const [layer, perHead] of channels)
    layers[String(layer)] = { default: { method: 'double-sparsity', params: { ...params, channels: perHead } } };
  return {
    version: 1,
    description: 'Double Sparsity with offline-calibrated channels per layer',
    default: { method: 'double-sparsity', params },
    layers,
  };
}
