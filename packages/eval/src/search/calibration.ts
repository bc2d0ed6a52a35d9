import { SparselandError } from '@sparseland/core';
import type { WorkloadItem } from '../workloads/workload.js';

/** One attention call to calibrate on: a layer's Q, K (after RoPE) and V, e.g. one layer of a trace or a workload item. */
export type CalibrationItem = Pick<WorkloadItem, 'layer' | 'q' | 'k' | 'v' | 'qOffset'>;

/**
 * Where calibration traces come from: items directly (an array or an async iterable), an eval Workload
 * (`{ items }`, e.g. `realTraceWorkload(...)`), or a model trace (`{ layers }`, e.g. `captureTraces(model, tokens)`).
 * Several items of the same layer (several prompts) are averaged.
 */
export type TraceSource =
  | Iterable<CalibrationItem>
  | AsyncIterable<CalibrationItem>
  | { readonly items: Iterable<CalibrationItem> | AsyncIterable<CalibrationItem> }
  | { readonly layers: Iterable<CalibrationItem> };

/** Iterates the calibration items of any TraceSource. */
export async function* calibrationItems(source: TraceSource | readonly TraceSource[]): AsyncGenerator<CalibrationItem> {
  if (Array.isArray(source) && source.length > 0 && !('layer' in (source[0] as object))) {
    for (const s of source as readonly TraceSource[]) yield* calibrationItems(s);
    return;
  }
  const inner = unwrap(source as TraceSource);
  if (Symbol.asyncIterator in inner) {
    for await (const item of inner as AsyncIterable<CalibrationItem>) yield item;
    return;
  }
  for (const item of inner as Iterable<CalibrationItem>) yield item;
}

function unwrap(source: TraceSource): Iterable<CalibrationItem> | AsyncIterable<CalibrationItem> {
  if (typeof source !== 'object' || source === null) {
    throw new SparselandError(
      'E_PARAMS',
      `traces must be calibration items, a workload {items} or a trace {layers}, got ${String(source)}`,
    );
  }
  if ('items' in source) return source.items;
  if ('layers' in source && !(Symbol.iterator in source)) return source.layers;
  if (Symbol.iterator in source || Symbol.asyncIterator in source) return source as Iterable<CalibrationItem>;
  throw new SparselandError('E_PARAMS', 'traces must be calibration items, a workload {items} or a trace {layers}');
}
