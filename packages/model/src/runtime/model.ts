import { SparselandError } from '@sparseland/core';
import { createRng, describeValue, expectInteger, expectNumber } from '@sparseland/core/kit';
import type { ModelConfig } from '../checkpoint/config.js';
import { tensorRuns } from '../checkpoint/layout.js';
import type { LlamaWeights } from '../checkpoint/weights.js';
import { LinearCache } from './linears.js';
import { rotaryTableOf } from './rope.js';
import { argmax, sampleWithTemperature } from './sampling.js';
import { type InferenceSession, LlamaSession, type ModelRuntime, type SessionOptions } from './session.js';

/** Token id of BOS in llama2.c vocabularies (run.c hard-codes it). */
export const BOS_ID = 1;

export interface GenerateOptions extends SessionOptions {
  /** Most tokens to generate. */
  readonly maxTokens: number;
  /** Stop (without returning it) when the model produces BOS (id 1), as run.c does. Default false. */
  readonly stopAtBos?: boolean;
  /** Stop (without returning it) at any of these ids. */
  readonly stopTokens?: readonly number[];
  /** 0 (default): greedy argmax. Above 0: sample from softmax(logits / temperature), seeded by `seed`. */
  readonly temperature?: number;
  /** Called with each generated token as it comes. */
  readonly onToken?: (id: number) => void;
}

/** A loaded model: create sessions to run it, or generate directly. */
export interface LlamaModel {
  readonly config: ModelConfig;
  readonly weights: LlamaWeights;
  createSession(options?: SessionOptions): InferenceSession;
  /** Runs the prompt, then generates up to maxTokens ids (the prompt is not included). */
  generate(prompt: readonly number[], options: GenerateOptions): Promise<number[]>;
}

/** A Llama model over parsed weights. The weights are checked for consistent sizes once, here. */
export function createModel(weights: LlamaWeights): LlamaModel {
  checkWeights(weights);
  const runtime: ModelRuntime = { config: weights.config, weights, rope: rotaryTableOf(weights), linears: new LinearCache(weights) };
  const model: LlamaModel = {
    config: weights.config,
    weights,
    createSession: (options = {}) => new LlamaSession(runtime, options),
    generate: (prompt, options) => generate(model, prompt, options),
  };
  return Object.freeze(model);
}

async function generate(model: LlamaModel, prompt: readonly number[], options: GenerateOptions): Promise<number[]> {
  if (typeof options !== 'object' || options === null) {
    throw new SparselandError('E_PARAMS', `generate(): options must be an object with maxTokens, got ${describeValue(options)}`);
  }
  const maxTokens = expectInteger(options.maxTokens, 'generate(): maxTokens', 0);
  const temperature = expectNumber(options.temperature ?? 0, 'generate(): temperature', 0);
  const stops = new Set(options.stopTokens ?? []);
  if (options.stopAtBos) stops.add(BOS_ID);
  const rng = createRng(options.seed ?? 0);
  const session = model.createSession(options);
  try {
    let logits = await session.prefill(prompt);
    const out: number[] = [];
    while (out.length < maxTokens) {
      const next = temperature > 0 ? sampleWithTemperature(logits, temperature, rng) : argmax(logits);
      if (stops.has(next)) break;
      out.push(next);
      options.onToken?.(next);
      if (out.length === maxTokens) break;
      logits = await session.step(next);
    }
    return out;
  } finally {
    await session.dispose();
  }
}

function checkWeights(weights: LlamaWeights): void {
  if (typeof weights !== 'object' || weights === null || typeof weights.config !== 'object' || !Array.isArray(weights.layers)) {
    throw new SparselandError(
      'E_PARAMS',
      `createModel(): expected weights from parseCheckpoint or loadCheckpoint, got ${describeValue(weights)}`,
    );
  }
  const c = weights.config;
  if (weights.layers.length !== c.layers) {
    throw new SparselandError('E_SHAPE', `createModel(): config says ${c.layers} layers, weights have ${weights.layers.length}`);
  }
  const check = (name: string, t: unknown, floats: number): void => {
    if (!(t instanceof Float32Array) || t.length !== floats) {
      throw new SparselandError('E_SHAPE', `createModel(): ${name} must be a Float32Array of ${floats} floats, got ${describeValue(t)}`);
    }
  };
  for (const run of tensorRuns({ ...c, sharedClassifier: false, version: 0 })) {
    if (run.name === 'freqCisReal' || run.name === 'freqCisImag') {
      if (weights[run.name] !== undefined) check(run.name, weights[run.name], run.floats);
    } else if (run.perLayer) {
      for (const [l, layer] of weights.layers.entries()) {
        check(`layers[${l}].${run.name}`, (layer as unknown as Record<string, unknown>)[run.name], run.floats);
      }
    } else {
      check(run.name, (weights as unknown as Record<string, unknown>)[run.name], run.floats);
    }
  }
}
