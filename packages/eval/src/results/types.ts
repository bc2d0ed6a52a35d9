import type { Recipe } from '@sparseland/core';

/** A method to evaluate: a label for tables and plots, and the recipe that runs it. */
export interface MethodSpec {
  readonly label: string;
  readonly recipe: Recipe | string;
  /** The curve this method belongs to in plots (a sweep's method name); default: the label. */
  readonly group?: string;
}

/** One query head of one workload item. */
export interface HeadResult {
  readonly item: number;
  readonly layer: number;
  readonly head: number;
  /** Kept pairs over the pairs dense attention computes (the causal triangle when causal). */
  readonly density: number;
  /** Dense softmax mass the mask keeps, mean and min over the measured rows. */
  readonly recallMean: number;
  readonly recallMin: number;
  /** ‖O_method − O_dense‖ / ‖O_dense‖ over the measured rows. */
  readonly outputError: number;
  readonly needles: number;
  readonly needleHits: number;
  /** null when the head has no needle. */
  readonly needleHitRate: number | null;
  /** Attention FLOPs (4·d per kept pair); estimation FLOPs of the call split evenly across its heads. */
  readonly flops: { readonly estimate: number; readonly attend: number };
}

/** A method on a workload, all items and heads together. */
export interface ResultSummary {
  /** Σ kept pairs / Σ dense pairs. */
  readonly density: number;
  /** Mean over every measured (item, head, row); min likewise. */
  readonly recallMean: number;
  readonly recallMin: number;
  /** Relative L2 error of all measured output rows together. */
  readonly outputError: number;
  readonly needles: number;
  readonly needleHits: number;
  readonly needleHitRate: number | null;
  readonly flops: { readonly estimate: number; readonly attend: number; readonly total: number; readonly dense: number };
  /** Wall time on the backend, summed over items: building the mask (estimation) and attention. */
  readonly ms: { readonly estimate: number; readonly attend: number; readonly total: number };
}

export interface MethodResult {
  readonly method: string;
  /** Plot curve (see MethodSpec.group). */
  readonly group: string;
  readonly workload: string;
  readonly summary: ResultSummary;
  readonly heads: readonly HeadResult[];
}

export interface WorkloadSummary {
  readonly name: string;
  readonly description: string;
  readonly items: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly dim: number;
  readonly length: number;
  /** Query rows measured per item and head (recall, output error). `length` means every row. */
  readonly rowsMeasured: readonly number[];
}

/** What `evaluateMethods` returns: plain JSON. */
export interface EvalReport {
  readonly kind: 'sparseland-eval';
  readonly version: 1;
  readonly createdAt: string;
  readonly backend: { readonly name: string; readonly impl: string };
  readonly causal: boolean;
  readonly seed: number;
  readonly methods: readonly { readonly label: string; readonly recipe: unknown }[];
  readonly workloads: readonly WorkloadSummary[];
  readonly results: readonly MethodResult[];
}
