import type { RecipeDocument } from '@sparseland/core';
import type { TraceItem } from '../engine/protocol.js';

export interface SweepJob {
  readonly type: 'sweep';
  readonly traces: readonly TraceItem[];
  readonly method: string;
  /** The method's other parameters, held fixed. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly densities: readonly number[];
}

export interface SearchJob {
  readonly type: 'search';
  readonly traces: readonly TraceItem[];
  /** Mean density over heads the recipe may spend, in (0, 1]. */
  readonly budget: number;
  readonly objective: 'recall' | 'output-error';
}

export type Job = SweepJob | SearchJob;

/** One point of a density-vs-recall sweep, averaged over every layer and head. */
export interface SweepPointResult {
  readonly label: string;
  readonly param: string;
  readonly value: number;
  readonly density: number;
  readonly recallMean: number;
  readonly recallMin: number;
  readonly outputError: number;
  readonly recipe: { readonly method: string; readonly params: Readonly<Record<string, unknown>> };
}

export interface SweepResult {
  readonly kind: 'sweep';
  readonly method: string;
  readonly param: string;
  readonly points: readonly SweepPointResult[];
}

export interface SearchResultMessage {
  readonly kind: 'search';
  readonly recipe: RecipeDocument;
  readonly summary: { readonly density: number; readonly recall: number; readonly outputError: number; readonly cost: number };
  readonly candidates: number;
}

export type JobResult = SweepResult | SearchResultMessage;

export type JobReply =
  | { readonly kind: 'progress'; readonly done: number; readonly total: number | undefined; readonly message: string }
  | { readonly kind: 'result'; readonly result: JobResult }
  | { readonly kind: 'error'; readonly message: string };
