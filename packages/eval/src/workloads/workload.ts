import type { HeadTensor } from '@sparseland/core';

/** A (query, key) pair that should carry most of its row's softmax mass: a retrieval target a method must keep. */
export interface Needle {
  /** Query head. */
  readonly head: number;
  /** Query row (index into q, not an absolute position). */
  readonly qRow: number;
  /** Key position. */
  readonly key: number;
}

/** One attention call to measure: a layer's Q, K, V (q [Hq, N, d], k and v [Hkv, N, d]). */
export interface WorkloadItem {
  /** Layer index (real traces) or sample index (synthetic). Per-layer recipes use it. */
  readonly layer: number;
  readonly q: HeadTensor;
  readonly k: HeadTensor;
  readonly v: HeadTensor;
  /** Absolute position of query row 0 (default kvLength − qLength). */
  readonly qOffset?: number;
  /** Planted retrieval pairs (synthetic and MQAR workloads). Their rows are always measured. */
  readonly needles?: readonly Needle[];
}

/**
 * A named set of attention calls. `items` is an array or a (re-iterable) async iterable, so long synthetic inputs can
 * be generated one at a time instead of all held in memory.
 */
export interface Workload {
  readonly name: string;
  /** One line: where the tensors come from and what is planted in them. */
  readonly description: string;
  readonly items: Iterable<WorkloadItem> | AsyncIterable<WorkloadItem>;
  /** Number of items when known without iterating (progress bars). */
  readonly size?: number;
}

/** How many items a workload has, when it says so or holds an array. */
export function workloadSize(workload: Workload): number | undefined {
  if (workload.size !== undefined) return workload.size;
  return Array.isArray(workload.items) ? workload.items.length : undefined;
}

/** Iterates a workload's items whether they are an array, an iterable or an async iterable. */
export async function* eachItem(workload: Workload): AsyncGenerator<WorkloadItem> {
  const items = workload.items as Iterable<WorkloadItem> & AsyncIterable<WorkloadItem>;
  if (typeof items[Symbol.asyncIterator] === 'function') {
    for await (const item of items) yield item;
  } else {
    for (const item of items) yield item;
  }
}

/** All items of a workload in memory (tests, small workloads). */
export async function collectItems(workload: Workload): Promise<WorkloadItem[]> {
  const out: WorkloadItem[] = [];
  for await (const item of eachItem(workload)) out.push(item);
  return out;
}

/** A re-iterable async iterable over `count` items made one at a time by `make(index)`. */
export function lazyItems(count: number, make: (index: number) => WorkloadItem | Promise<WorkloadItem>): AsyncIterable<WorkloadItem> {
  return {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < count; i++) yield await make(i);
    },
  };
}
