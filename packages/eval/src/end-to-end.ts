import { type Backend, compileRecipe, type Registry, SparselandError } from '@sparseland/core';
import { describeValue, expectInteger } from '@sparseland/core/kit';
import { type AttentionEvent, argmax } from '@sparseland/model';
import { WORKLOAD_LIMITS } from './limits.js';
import {
  FIXTURE_DEFAULTS,
  type FixtureModelName,
  type FixtureTextName,
  type LoadedModel,
  loadFixtureModel,
  passageTokens,
  readFixtureText,
} from './models/fixture-model.js';
import type { MethodSpec } from './results/types.js';

export interface EndToEndOptions {
  readonly model: FixtureModelName | LoadedModel;
  /** Default: the model's held-out text (tinybooks-2k: the held-out tail of tiny-shakespeare). */
  readonly text?: FixtureTextName | { readonly name: string; readonly content: string };
  /** Character offset (default: where the held-out text starts). */
  readonly offset?: number;
  readonly methods: readonly MethodSpec[];
  readonly registry: Registry;
  readonly backend: Backend;
  /** Positions used in all: NLL is scored over the first `positions − greedyTokens`, then greedy decoding fills the rest. */
  readonly positions?: number;
  /** Greedy tokens generated after the scored passage (default 32). */
  readonly greedyTokens?: number;
  readonly onProgress?: (done: number, total: number, method: string) => void;
}

/** One method against dense attention, on the whole model. */
export interface EndToEndResult {
  readonly method: string;
  /** Mean next-token negative log-likelihood (nats per token) over the scored passage. */
  readonly nll: number;
  /** Mean and largest per-token NLL change vs dense (positive: worse). */
  readonly nllDelta: number;
  readonly nllDeltaMax: number;
  /** Fraction of positions whose argmax next token equals dense attention's. */
  readonly nextTokenAgreement: number;
  /** Leading greedy tokens identical to dense attention's continuation (of `greedyTokens`). */
  readonly greedyAgreement: number;
  /** Mean density of the prefill attention calls (all layers). */
  readonly density: number;
  /** Wall time of the prefill (the model's whole forward pass, not only attention). */
  readonly prefillMs: number;
}

export interface EndToEndReport {
  readonly kind: 'sparseland-end-to-end';
  readonly version: 1;
  readonly model: string;
  readonly text: string;
  readonly offset: number;
  /** Scored tokens (predictions) and greedy continuation length. */
  readonly scored: number;
  readonly greedyTokens: number;
  readonly backend: { readonly name: string; readonly impl: string };
  /** Dense attention's mean NLL and perplexity on the passage. */
  readonly dense: { readonly nll: number; readonly perplexity: number; readonly prefillMs: number };
  /** True when some position runs past the model's trained context (RoPE extrapolation). */
  readonly extrapolated: boolean;
  readonly results: readonly EndToEndResult[];
}

interface Run {
  readonly nll: Float64Array;
  readonly argmax: Int32Array;
  readonly greedy: number[];
  readonly density: number;
  readonly prefillMs: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Runs the model over a held-out passage with dense attention and with every method, and compares: the change of
 * per-token NLL, next-token (argmax) agreement, and how many greedy tokens agree after the passage.
 */
export async function endToEnd(options: EndToEndOptions): Promise<EndToEndReport> {
  if (typeof options !== 'object' || options === null) {
    throw new SparselandError('E_PARAMS', `endToEnd: expected an options object, got ${describeValue(options)}`);
  }
  if (!Array.isArray(options.methods) || options.methods.length === 0) {
    throw new SparselandError('E_PARAMS', 'endToEnd: methods must be a non-empty array of {label, recipe}');
  }
  const model = typeof options.model === 'string' ? await loadFixtureModel(options.model) : options.model;
  const defaults = FIXTURE_DEFAULTS[model.name as FixtureModelName];
  const positions = expectInteger(
    options.positions ?? defaults?.positions ?? model.model.config.seqLen,
    'positions',
    4,
    WORKLOAD_LIMITS.length,
  );
  const greedyTokens = expectInteger(options.greedyTokens ?? Math.min(32, Math.floor(positions / 4)), 'greedyTokens', 1, positions - 2);
  const textOption = options.text ?? defaults?.heldOut.text ?? 'pride-and-prejudice';
  const text = typeof textOption === 'string' ? { name: textOption, content: await readFixtureText(textOption) } : textOption;
  const offset = expectInteger(options.offset ?? (options.text === undefined ? (defaults?.heldOut.offset ?? 0) : 0), 'offset', 0);
  const scored = positions - greedyTokens;
  // scored + 1 tokens: position t predicts token t + 1.
  const tokens = passageTokens(model, text.content, offset, scored + 1);
  const compiled = options.methods.map((m) => ({ label: m.label, recipe: compileRecipe(m.recipe, options.registry) }));
  const total = compiled.length + 1;
  const dense = await runModel(model, tokens, undefined, options, greedyTokens);
  options.onProgress?.(1, total, 'dense');
  const results: EndToEndResult[] = [];
  for (const [i, { label, recipe }] of compiled.entries()) {
    const run = await runModel(model, tokens, recipe, options, greedyTokens);
    results.push(compare(label, run, dense));
    options.onProgress?.(i + 2, total, label);
  }
  const denseNll = mean(dense.nll);
  return {
    kind: 'sparseland-end-to-end',
    version: 1,
    model: model.name,
    text: text.name,
    offset,
    scored,
    greedyTokens,
    backend: { name: options.backend.name, impl: options.backend.impl },
    dense: { nll: denseNll, perplexity: Math.exp(denseNll), prefillMs: dense.prefillMs },
    extrapolated: positions > model.model.config.seqLen,
    results,
  };
}

async function runModel(
  model: LoadedModel,
  tokens: readonly number[],
  recipe: ReturnType<typeof compileRecipe> | undefined,
  options: EndToEndOptions,
  greedyTokens: number,
): Promise<Run> {
  const scored = tokens.length - 1;
  const vocab = model.model.config.vocabSize;
  const densities: number[] = [];
  const session = model.model.createSession({
    recipe,
    backend: options.backend,
    onAttention: (e: AttentionEvent) => {
      if (e.phase === 'prefill') densities.push(e.stats.density);
    },
  });
  try {
    const t0 = now();
    const logits = await session.prefill(tokens.slice(0, scored), { allLogits: true });
    const prefillMs = now() - t0;
    const nll = new Float64Array(scored);
    const best = new Int32Array(scored);
    for (let t = 0; t < scored; t++) {
      const row = logits.subarray(t * vocab, (t + 1) * vocab);
      nll[t] = logSumExp(row) - (row[tokens[t + 1] as number] as number);
      best[t] = argmax(row);
    }
    const greedy: number[] = [best[scored - 1] as number];
    while (greedy.length < greedyTokens) greedy.push(argmax(await session.step(greedy[greedy.length - 1] as number)));
    return { nll, argmax: best, greedy, density: densities.length ? mean(densities) : 1, prefillMs };
  } finally {
    await session.dispose();
  }
}

function compare(label: string, run: Run, dense: Run): EndToEndResult {
  let delta = 0;
  let deltaMax = -Infinity;
  let agree = 0;
  for (let t = 0; t < run.nll.length; t++) {
    const d = (run.nll[t] as number) - (dense.nll[t] as number);
    delta += d;
    deltaMax = Math.max(deltaMax, d);
    if (run.argmax[t] === dense.argmax[t]) agree++;
  }
  let greedyAgreement = 0;
  while (greedyAgreement < run.greedy.length && run.greedy[greedyAgreement] === dense.greedy[greedyAgreement]) greedyAgreement++;
  return {
    method: label,
    nll: mean(run.nll),
    nllDelta: delta / run.nll.length,
    nllDeltaMax: deltaMax,
    nextTokenAgreement: agree / run.nll.length,
    greedyAgreement,
    density: run.density,
    prefillMs: run.prefillMs,
  };
}

function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if ((row[i] as number) > max) max = row[i] as number;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp((row[i] as number) - max);
  return max + Math.log(sum);
}

function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] as number;
  return values.length ? s / values.length : 0;
}
