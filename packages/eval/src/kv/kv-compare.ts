import {
  type Backend,
  compileRecipe,
  type HeadTensor,
  type LayerRecipe,
  parseRecipe,
  type Recipe,
  type RecipeDocument,
  type Registry,
  SparselandError,
  type TokenSelection,
} from '@sparseland/core';
import { describeValue, expectInteger, type KvPolicy } from '@sparseland/core/kit';
import { argmax, type LayerCapture } from '@sparseland/model';
import {
  type FixtureModelName,
  type FixtureTextName,
  type LoadedModel,
  loadFixtureModel,
  passageTokens,
  readFixtureText,
} from '../models/fixture-model.js';
import type { MethodSpec } from '../results/types.js';

/** A passage a comparison runs on: an embedded text (or given content) from a character offset. */
export interface KvText {
  readonly text: FixtureTextName | { readonly name: string; readonly content: string };
  readonly offset: number;
}

/**
 * Three passages per model. tinybooks-2k: two from the held-out tail of tiny-shakespeare (the model never trained on
 * it) and one from Pride and Prejudice (in its training data); stories260K: both books are out of distribution.
 */
export const DEFAULT_KV_TEXTS: Readonly<Record<FixtureModelName, readonly KvText[]>> = {
  'tinybooks-2k': [
    { text: 'tinyshakespeare', offset: 1_024_740 },
    { text: 'tinyshakespeare', offset: 1_070_000 },
    { text: 'pride-and-prejudice', offset: 400_000 },
  ],
  stories260K: [
    { text: 'pride-and-prejudice', offset: 0 },
    { text: 'pride-and-prejudice', offset: 200_000 },
    { text: 'tinyshakespeare', offset: 0 },
  ],
};

export interface KvCompareOptions {
  readonly model: FixtureModelName | LoadedModel;
  /** Default: DEFAULT_KV_TEXTS of the model. */
  readonly texts?: readonly KvText[];
  /** Each method's recipe names its KV policy (`kv`, per layer / kv head); the full cache is the baseline. */
  readonly methods: readonly MethodSpec[];
  readonly registry: Registry;
  readonly backend: Backend;
  /** Prompt tokens (default: the model's trained context, seqLen). */
  readonly prompt?: number;
  /** Teacher-forced continuation tokens whose NLL is compared (default 64). */
  readonly continuation?: number;
  /** Greedy tokens generated after the prompt and compared with the full cache's (default 128). */
  readonly greedyTokens?: number;
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

/** One method on one passage, against the full cache on the same passage. */
export interface KvResult {
  readonly method: string;
  readonly text: string;
  readonly offset: number;
  /** Mean NLL of the continuation (nats per token) and its change vs the full cache (positive: worse). */
  readonly nll: number;
  readonly nllDelta: number;
  /** Greedy tokens identical to the full cache's before the first difference (of greedyTokens). */
  readonly greedyAgreement: number;
  /**
   * Decode attention recall: the share of the full cache's softmax mass (over every token written in this run)
   * that the slots attention read hold, averaged over continuation steps, layers and query heads; and its minimum
   * over (step, layer, head).
   */
  readonly recall: number;
  readonly recallMin: number;
  /** KV bytes held after the prompt (all layers: cache bytes + the policy's own state) and the full cache's. */
  readonly bytes: number;
  readonly fullBytes: number;
  readonly bytesRatio: number;
  /** Mean wall time of one continuation step (the whole model, not only attention). */
  readonly msPerToken: number;
}

export interface KvCompareReport {
  readonly kind: 'sparseland-kv-compare';
  readonly version: 1;
  readonly model: string;
  readonly prompt: number;
  readonly continuation: number;
  readonly greedyTokens: number;
  readonly backend: { readonly name: string; readonly impl: string };
  /** True when decoding runs past the model's trained context (RoPE extrapolation). */
  readonly extrapolated: boolean;
  readonly texts: readonly {
    readonly text: string;
    readonly offset: number;
    readonly nll: number;
    readonly msPerToken: number;
    readonly bytes: number;
  }[];
  readonly results: readonly KvResult[];
  /** Per method: means over the passages, and the worst passage's greedy agreement and recall. */
  readonly summary: readonly KvSummary[];
}

export interface KvSummary {
  readonly method: string;
  readonly nllDelta: number;
  readonly greedyAgreement: number;
  readonly greedyAgreementMin: number;
  readonly recall: number;
  readonly recallWorstText: number;
  readonly bytesRatio: number;
  readonly msPerToken: number;
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Runs every method's KV policy on the model over each passage and compares it with the full cache: continuation
 * NLL (teacher-forced), greedy agreement, decode attention recall, bytes held and decode time per token.
 */
export async function compareKvPolicies(options: KvCompareOptions): Promise<KvCompareReport> {
  if (typeof options !== 'object' || options === null) {
    throw new SparselandError('E_PARAMS', `compareKvPolicies: expected an options object, got ${describeValue(options)}`);
  }
  if (!Array.isArray(options.methods) || options.methods.length === 0) {
    throw new SparselandError('E_PARAMS', 'compareKvPolicies: methods must be a non-empty array of {label, recipe}');
  }
  const model = typeof options.model === 'string' ? await loadFixtureModel(options.model) : options.model;
  const seqLen = model.model.config.seqLen;
  const prompt = expectInteger(options.prompt ?? seqLen, 'prompt', 2, 1 << 20);
  const continuation = expectInteger(options.continuation ?? 64, 'continuation', 1, 1 << 16);
  const greedyTokens = expectInteger(options.greedyTokens ?? 128, 'greedyTokens', 1, 1 << 16);
  const texts = options.texts ?? DEFAULT_KV_TEXTS[model.name as FixtureModelName] ?? DEFAULT_KV_TEXTS['tinybooks-2k'];
  const methods = options.methods.map((m) => ({ label: m.label, ...splitKvRecipe(m.recipe, options.registry) }));
  const total = texts.length * (methods.length + 1);
  let done = 0;
  const results: KvResult[] = [];
  const textRows: KvCompareReport['texts'][number][] = [];
  for (const passage of texts) {
    const text = typeof passage.text === 'string' ? { name: passage.text, content: await readFixtureText(passage.text) } : passage.text;
    const tokens = passageTokens(model, text.content, passage.offset, prompt + continuation + 1);
    const full = await runPolicy(model, tokens, prompt, greedyTokens, options.backend, undefined, undefined);
    textRows.push({ text: text.name, offset: passage.offset, nll: mean(full.nll), msPerToken: full.msPerToken, bytes: full.bytes });
    options.onProgress?.(++done, total, `full cache on ${text.name}@${passage.offset}`);
    for (const m of methods) {
      const run = await runPolicy(model, tokens, prompt, greedyTokens, options.backend, m.maskRecipe, m.kvPolicy);
      let agree = 0;
      while (agree < run.greedy.length && run.greedy[agree] === full.greedy[agree]) agree++;
      results.push({
        method: m.label,
        text: text.name,
        offset: passage.offset,
        nll: mean(run.nll),
        nllDelta: mean(run.nll) - mean(full.nll),
        greedyAgreement: agree,
        recall: run.recall,
        recallMin: run.recallMin,
        bytes: run.bytes,
        fullBytes: full.bytes,
        bytesRatio: run.bytes / full.bytes,
        msPerToken: run.msPerToken,
      });
      options.onProgress?.(++done, total, `${m.label} on ${text.name}@${passage.offset}`);
    }
  }
  return {
    kind: 'sparseland-kv-compare',
    version: 1,
    model: model.name,
    prompt,
    continuation,
    greedyTokens,
    backend: { name: options.backend.name, impl: options.backend.impl },
    extrapolated: prompt + Math.max(continuation, greedyTokens) > seqLen,
    texts: textRows,
    results,
    summary: summarize(
      results,
      methods.map((m) => m.label),
    ),
  };
}

function summarize(results: readonly KvResult[], labels: readonly string[]): KvSummary[] {
  return labels.map((method) => {
    const rows = results.filter((r) => r.method === method);
    return {
      method,
      nllDelta: mean(rows.map((r) => r.nllDelta)),
      greedyAgreement: mean(rows.map((r) => r.greedyAgreement)),
      greedyAgreementMin: Math.min(...rows.map((r) => r.greedyAgreement)),
      recall: mean(rows.map((r) => r.recall)),
      recallWorstText: Math.min(...rows.map((r) => r.recall)),
      bytesRatio: mean(rows.map((r) => r.bytesRatio)),
      msPerToken: mean(rows.map((r) => r.msPerToken)),
    };
  });
}

/**
 * A recipe's attention part and its KV policy, apart: the session runs the mask recipe and a recording wrapper of
 * the policy (to know which slots each step read).
 */
export function splitKvRecipe(recipe: Recipe | string, registry: Registry): { maskRecipe: RecipeDocument; kvPolicy: KvPolicy | undefined } {
  const compiled = compileRecipe(recipe, registry);
  const { kv: _kv, layers: allLayers, ...rest } = compiled.document;
  const layers: Record<string, LayerRecipe> = {};
  for (const [key, layer] of Object.entries(allLayers ?? {})) {
    if (layer.default === undefined && Object.keys(layer.heads ?? {}).length === 0) continue;
    layers[key] = { ...(layer.default ? { default: layer.default } : {}), ...(layer.heads ? { heads: { ...layer.heads } } : {}) };
  }
  return { maskRecipe: parseRecipe({ ...rest, layers }), kvPolicy: compiled.kvPolicy };
}

interface Run {
  readonly nll: Float64Array;
  readonly greedy: number[];
  readonly recall: number;
  readonly recallMin: number;
  readonly bytes: number;
  readonly msPerToken: number;
}

/** Which positions each layer's attention read at the current step: the recorded selection, or the whole cache. */
function recording(policy: KvPolicy | undefined): { policy: KvPolicy | undefined; selections: Map<number, TokenSelection | undefined> } {
  const selections = new Map<number, TokenSelection | undefined>();
  if (!policy) return { policy, selections };
  const wrapped: KvPolicy = {
    name: policy.name,
    ...(policy.afterPrefill ? { afterPrefill: (c, q, ctx) => policy.afterPrefill?.(c, q, ctx) } : {}),
    select: (cache, query, ctx) => {
      const s = policy.select?.(cache, query, ctx);
      selections.set(ctx.layer, s);
      return s;
    },
    ...(policy.afterAppend ? { afterAppend: (c, q, ctx) => policy.afterAppend?.(c, q, ctx) } : {}),
    ...(policy.budget ? { budget: (c, ctx) => policy.budget?.(c, ctx) ?? {} } : {}),
    ...(policy.stateBytes ? { stateBytes: (c) => policy.stateBytes?.(c) ?? 0 } : {}),
  };
  return { policy: wrapped, selections };
}

async function runPolicy(
  model: LoadedModel,
  tokens: readonly number[],
  prompt: number,
  greedyTokens: number,
  backend: Backend,
  maskRecipe: RecipeDocument | undefined,
  kvPolicy: KvPolicy | undefined,
): Promise<Run> {
  const { config } = model.model;
  const { heads, kvHeads, headDim: d, layers } = config;
  const group = heads / kvHeads;
  const recorder = recording(kvPolicy);
  // Every key this run wrote, per layer and kv head, by position: the full cache recall is measured against.
  const history = Array.from({ length: layers }, () => Array.from({ length: kvHeads }, () => [] as Float32Array[]));
  let measuring = false;
  let recallSum = 0;
  let recallCount = 0;
  let recallMin = 1;
  let session: ReturnType<LoadedModel['model']['createSession']> | undefined;
  const onLayer = (capture: LayerCapture) => {
    const { k, layer } = capture;
    for (let g = 0; g < kvHeads; g++) {
      for (let t = 0; t < k.length; t++)
        (history[layer] as Float32Array[][])[g]?.push(k.data.slice((g * k.length + t) * d, (g * k.length + t + 1) * d));
    }
    if (!measuring || !session) return;
    // Called after the step's attention and before the policy's afterAppend: the cache holds what attention read.
    const cache = session.cache[layer];
    if (!cache) return;
    const selection = recorder.selections.get(layer);
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / group);
      const positions = cache.positions(g);
      const read = selection ? Array.from(selection.slotsOf(g), (s) => positions[s] as number) : Array.from(positions);
      const r = keptMass(capture.q, h, (history[layer] as Float32Array[][])[g] as Float32Array[], read);
      recallSum += r;
      recallCount++;
      recallMin = Math.min(recallMin, r);
    }
  };
  // Teacher-forced continuation: NLL, recall and time per step.
  session = model.model.createSession({ backend, ...(maskRecipe ? { recipe: maskRecipe } : {}), kvPolicy: recorder.policy, onLayer });
  const nll = new Float64Array(tokens.length - 1 - prompt);
  let bytes = 0;
  let stepMs = 0;
  try {
    let logits = await session.prefill(tokens.slice(0, prompt));
    bytes = heldBytes(session, kvPolicy);
    measuring = true;
    for (let t = prompt; t < tokens.length - 1; t++) {
      nll[t - prompt] = logSumExp(logits) - (logits[tokens[t] as number] as number);
      const t0 = now();
      logits = await session.step(tokens[t] as number);
      stepMs += now() - t0;
    }
  } finally {
    await session.dispose();
  }
  // Greedy continuation from the same prompt, in a fresh session.
  measuring = false;
  for (const layer of history) for (const head of layer) head.length = 0;
  const greedySession = model.model.createSession({ backend, ...(maskRecipe ? { recipe: maskRecipe } : {}), kvPolicy: recorder.policy });
  const greedy: number[] = [];
  try {
    let logits = await greedySession.prefill(tokens.slice(0, prompt));
    for (let i = 0; i < greedyTokens; i++) {
      const next = argmax(logits);
      greedy.push(next);
      if (i + 1 < greedyTokens) logits = await greedySession.step(next);
    }
  } finally {
    await greedySession.dispose();
  }
  return {
    nll,
    greedy,
    recall: recallCount ? recallSum / recallCount : 1,
    recallMin: recallCount ? recallMin : 1,
    bytes,
    msPerToken: stepMs / Math.max(1, nll.length),
  };
}

/** Bytes a session's caches hold, plus the policy's own state. */
function heldBytes(session: { readonly cache: readonly { bytes(): number }[] }, policy: KvPolicy | undefined): number {
  let bytes = 0;
  for (const cache of session.cache) {
    bytes += cache.bytes();
    bytes += policy?.stateBytes?.(cache as never) ?? 0;
  }
  return bytes;
}

/** Softmax mass (float64) that the positions `read` hold, for query head h's row 0 against every key written. */
function keptMass(q: HeadTensor, h: number, keys: readonly Float32Array[], read: readonly number[]): number {
  const d = q.dim;
  const row = q.data.subarray(h * q.length * d, (h * q.length + 1) * d);
  const logits = new Float64Array(keys.length);
  let max = -Infinity;
  for (let p = 0; p < keys.length; p++) {
    const k = keys[p] as Float32Array;
    let dot = 0;
    for (let c = 0; c < d; c++) dot += (row[c] as number) * (k[c] as number);
    logits[p] = dot / Math.sqrt(d);
    if ((logits[p] as number) > max) max = logits[p] as number;
  }
  let total = 0;
  for (let p = 0; p < keys.length; p++) total += Math.exp((logits[p] as number) - max);
  let kept = 0;
  for (const p of read) kept += Math.exp((logits[p] as number) - max);
  return kept / total;
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
