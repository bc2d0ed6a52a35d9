import { type Backend, type HeadTensor, SparselandError } from '@sparseland/core';
import { createRng, describeValue, expectInteger } from '@sparseland/core/kit';
import {
  type FixtureModelName,
  type FixtureTextName,
  type LoadedModel,
  loadFixtureModel,
  passageTokens,
  readFixtureText,
} from '../models/fixture-model.js';

export interface NeedleTraceOptions {
  readonly model: FixtureModelName | LoadedModel;
  /** Prompts (default 4). */
  readonly prompts?: number;
  /** Tokens per prompt (default: the model's trained context). */
  readonly length?: number;
  /** Filler text (default tinyshakespeare). */
  readonly text?: FixtureTextName;
  readonly seed?: number;
  readonly backend?: Backend;
}

/** One needle prompt's Q and K per layer (after RoPE) and the query rows that must retrieve the key. */
export interface NeedleTrace {
  readonly layers: readonly { readonly q: HeadTensor; readonly k: HeadTensor }[];
  readonly queryRows: readonly number[];
  /** The planted key and where its statement starts (token index). */
  readonly key: string;
  readonly factAt: number;
}

/**
 * Pass-key prompts in the format tinybooks-2k was trained on (fixtures/models/tinybooks-2k/train_tiny.py): filler
 * text, " The pass key is NNNNN. Remember it. NNNNN is the pass key. " at a random depth in the first 80 %, and
 * " What is the pass key? The pass key is NNNNN." at the end; the query rows are the last tokens (the answer). The
 * model runs each prompt once and every layer's Q and K are captured: the input of DuoAttention's head detector
 * (`classifyHeads` in @sparseland/kv-cache).
 */
export async function needleTraces(options: NeedleTraceOptions): Promise<NeedleTrace[]> {
  if (typeof options !== 'object' || options === null) {
    throw new SparselandError('E_PARAMS', `needleTraces: expected an options object, got ${describeValue(options)}`);
  }
  const model = typeof options.model === 'string' ? await loadFixtureModel(options.model) : options.model;
  const prompts = expectInteger(options.prompts ?? 4, 'prompts', 1, 1000);
  const length = expectInteger(options.length ?? model.model.config.seqLen, 'length', 64, 1 << 20);
  const text = await readFixtureText(options.text ?? 'tinyshakespeare');
  const rng = createRng(options.seed ?? 0);
  const encode = (s: string) => model.tokenizer.encode(s, { bos: false });
  const traces: NeedleTrace[] = [];
  for (let p = 0; p < prompts; p++) {
    const key = Array.from({ length: 5 }, () => String(rng.int(10))).join('');
    const fact = encode(` The pass key is ${key}. Remember it. ${key} is the pass key. `);
    const ask = encode(` What is the pass key? The pass key is ${key}.`);
    const fillerTokens = length - fact.length - ask.length;
    if (fillerTokens < 16) throw new SparselandError('E_PARAMS', `needleTraces: length ${length} leaves no room for filler text`);
    const offset = rng.int(Math.max(1, text.length - 8 * length));
    const filler = passageTokens(model, text, offset, fillerTokens);
    const at = (model.bos ? 1 : 0) + rng.int(Math.max(1, Math.floor(fillerTokens * 0.8) - 1));
    const tokens = [...filler.slice(0, at), ...fact, ...filler.slice(at), ...ask];
    const layers: { q: HeadTensor; k: HeadTensor }[] = new Array(model.model.config.layers);
    const session = model.model.createSession({
      ...(options.backend ? { backend: options.backend } : {}),
      onLayer: (c) => {
        layers[c.layer] = { q: c.q, k: c.k };
      },
    });
    try {
      await session.prefill(tokens);
    } finally {
      await session.dispose();
    }
    const answer = Math.min(8, ask.length);
    traces.push({ layers, queryRows: Array.from({ length: answer }, (_, i) => tokens.length - answer + i), key, factAt: at });
  }
  return traces;
}
