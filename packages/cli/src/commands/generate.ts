import { compileRecipe, createRegistry, type Recipe } from '@sparseland/core';
import { createRng } from '@sparseland/core/kit';
import {
  FIXTURE_TEXTS,
  type FixtureModelName,
  type FixtureTextName,
  loadFixtureModel,
  passageTokens,
  readFixtureText,
} from '@sparseland/eval';
import { argmax, sampleWithTemperature } from '@sparseland/model';
import { chooseBackend } from '../backend.js';
import { UsageError } from '../exit-codes.js';
import { kvMethods } from '../kv-spec.js';
import { loadPlugins } from '../plugins.js';
import { modelOf } from '../workload-spec.js';

export interface GenerateOptions {
  readonly model: string;
  readonly text?: string;
  readonly offset?: string;
  readonly promptTokens?: string;
  readonly maxTokens: string;
  readonly kv?: string;
  readonly kvBudget?: string;
  readonly kvParams?: string;
  readonly recipe?: string;
  readonly temperature: string;
  readonly seed: string;
  readonly backend: string;
  readonly json?: boolean;
  readonly plugin?: string[];
}

export interface GenerateReport {
  readonly model: string;
  readonly kv: string;
  readonly promptTokens: number;
  readonly tokens: readonly number[];
  readonly text: string;
  /** KV bytes held after the last step (caches + policy state) and what the full cache would hold. */
  readonly bytes: number;
  readonly fullBytes: number;
  readonly msPerToken: number;
}

const MiB = 2 ** 20;

/**
 * `sparseland generate`: streams a continuation of a prompt (given text, or a passage of an embedded book) under a
 * KV policy, with a progress line on stderr showing the cache bytes held against the full cache's.
 */
export async function generateCommand(prompt: string[], options: GenerateOptions, out: (text: string) => void): Promise<void> {
  const modelName = modelOf(options.model) as FixtureModelName | undefined;
  if (!modelName) throw new UsageError(`--model must be tinybooks or stories, got "${options.model}"`);
  const maxTokens = positiveInt(options.maxTokens, '--max-tokens');
  const temperature = Number(options.temperature);
  if (!(temperature >= 0)) throw new UsageError(`--temperature must be a number >= 0, got "${options.temperature}"`);
  const { registry } = await loadPlugins(options.plugin);
  const methods = kvMethods(options, registry);
  if (methods.length > 1)
    throw new UsageError('generate runs one KV policy: give one --kv name and at most one --kv-budget (or a --recipe)');
  const method = methods[0];
  const model = await loadFixtureModel(modelName);
  let promptIds: number[];
  if (prompt.length > 0) {
    if (options.text !== undefined) throw new UsageError('give a prompt or --text, not both');
    promptIds = model.tokenizer.encode(prompt.join(' '), { bos: model.bos });
  } else {
    const text = (options.text ?? 'tinyshakespeare') as FixtureTextName;
    if (!FIXTURE_TEXTS.includes(text)) throw new UsageError(`--text must be one of ${FIXTURE_TEXTS.join(', ')}, got "${options.text}"`);
    const count = options.promptTokens === undefined ? model.model.config.seqLen : positiveInt(options.promptTokens, '--prompt-tokens');
    const offset = options.offset === undefined ? (text === 'tinyshakespeare' ? 1_024_740 : 0) : nonNegative(options.offset, '--offset');
    promptIds = passageTokens(model, await readFixtureText(text), offset, count);
  }
  if (promptIds.length === 0) throw new UsageError('the prompt is empty');
  const backend = await chooseBackend(registry, options.backend);
  const compiled = method
    ? compileRecipe(method.recipe as Recipe, registry)
    : compileRecipe({ method: 'dense' }, createRegistry({ plugins: [] }));
  const session = model.model.createSession({ backend, recipe: compiled });
  const rng = createRng(nonNegative(options.seed, '--seed'));
  const tty = process.stderr.isTTY === true && options.json !== true;
  const { kvHeads, headDim } = model.model.config;
  const fullBytes = () => session.cache.reduce((n, c) => n + c.written() * kvHeads * (2 * headDim * 4 + 4), 0);
  const held = () => session.cache.reduce((n, c) => n + c.bytes() + (compiled.kvPolicy?.stateBytes?.(c) ?? 0), 0);
  const label = method?.label ?? 'full cache';
  const tokens: number[] = [];
  let printed = '';
  let stepMs = 0;
  const progress = (done: number) => {
    if (!tty) return;
    const b = held();
    const f = fullBytes();
    process.stderr.write(
      `\r[${label}] ${done}/${maxTokens} tokens · cache ${(b / MiB).toFixed(2)} MiB of ${(f / MiB).toFixed(2)} MiB full (${((100 * b) / f).toFixed(1)}%) · ${(stepMs / Math.max(1, done)).toFixed(1)} ms/token   `,
    );
  };
  try {
    let logits = await session.prefill(promptIds);
    for (let i = 0; i < maxTokens; i++) {
      const next = temperature === 0 ? argmax(logits) : sampleWithTemperature(logits, temperature, rng);
      tokens.push(next);
      const text = model.tokenizer.decode(tokens);
      if (!options.json && text.length > printed.length && text.startsWith(printed)) {
        process.stdout.write(text.slice(printed.length));
        printed = text;
      }
      progress(i + 1);
      if (i + 1 < maxTokens) {
        const t0 = performance.now();
        logits = await session.step(next);
        stepMs += performance.now() - t0;
      }
    }
    const report: GenerateReport = {
      model: modelName,
      kv: label,
      promptTokens: promptIds.length,
      tokens,
      text: model.tokenizer.decode(tokens),
      bytes: held(),
      fullBytes: fullBytes(),
      msPerToken: stepMs / Math.max(1, maxTokens - 1),
    };
    if (tty) process.stderr.write('\n');
    if (options.json) out(JSON.stringify(report, null, 2));
    else {
      if (report.text !== printed) process.stdout.write(report.text.slice(printed.length));
      process.stdout.write('\n');
      process.stderr.write(
        `${label}: ${tokens.length} tokens after a ${promptIds.length}-token prompt; cache ${(report.bytes / MiB).toFixed(2)} MiB of ${(report.fullBytes / MiB).toFixed(2)} MiB full (${((100 * report.bytes) / report.fullBytes).toFixed(1)}%); ${report.msPerToken.toFixed(1)} ms/token\n`,
      );
    }
  } finally {
    await session.dispose();
    await backend.dispose();
  }
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 1 << 20) throw new UsageError(`${what} must be an integer in [1, 1048576], got "${text}"`);
  return n;
}

function nonNegative(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${what} must be an integer >= 0, got "${text}"`);
  return n;
}
