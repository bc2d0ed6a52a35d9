import type { AttendOptions, AttendResult, DecodeOptions } from '../backend.js';
import { describeValue, expectNumber, SparselandError } from '../errors.js';
import { expectModdedScore, type ScoreMod } from '../masks/mask-mod.js';
import { type AttentionMask, type SparseMask, toSparseMask } from '../masks/sparse-mask.js';
import { expectSelectionFits, TokenSelection } from '../masks/token-selection.js';
import type { HeadTensor } from '../tensor/head-tensor.js';
import {
  type AttentionInput,
  type AttentionShape,
  expectCausalPositions,
  expectHeadTensor,
  resolveAttentionShape,
  sharesMemory,
  type ValidateOptions,
} from '../tensor/shape.js';

// Every backend validates `attend` and `decode` calls the same way: these resolvers are the one place that does it,
// so the reference and every backend accept and reject exactly the same calls with the same messages.

/** The logit scale a call uses: the given one (checked) or 1/√dim. */
export function resolveScale(scale: number | undefined, dim: number): number {
  return scale === undefined ? 1 / Math.sqrt(dim) : expectNumber(scale, 'scale', Number.MIN_VALUE);
}

/** The options of an attend call as the resolver takes them: the mask may be any form (a bare MaskMod too). */
export type AttendCallOptions = Omit<AttendOptions, 'mask'> & { readonly mask?: AttentionMask | undefined };

/** A validated `attend` call. */
export interface AttendCall {
  readonly shape: AttentionShape;
  /** The caller's tensors with `qOffset` filled in. */
  readonly input: AttentionInput & { readonly qOffset: number };
  readonly causal: boolean;
  readonly scale: number;
  /** The mask as a SparseMask that fits the call; undefined means dense. */
  readonly mask: SparseMask | undefined;
  readonly scoreMod: ScoreMod | undefined;
  /** Where the output goes (options.out, checked); undefined: a new tensor. */
  readonly out: HeadTensor | undefined;
}

/** A validated `decode` call. */
export interface DecodeCall {
  readonly shape: AttentionShape;
  readonly input: AttentionInput & { readonly qOffset: number };
  readonly causal: boolean;
  readonly scale: number;
  /** Slots read per kv head; undefined means the whole cache. */
  readonly selection: TokenSelection | undefined;
  readonly scoreMod: ScoreMod | undefined;
}

/**
 * Validates an `attend` call once: the shape (O(1); the finiteness scan only when `validate.checkFinite` is true,
 * as `attention()` already scanned), `causal`, `scale`, `scoreMod`, and the mask, which is normalised to a
 * SparseMask and checked to fit the call's geometry.
 */
export function resolveAttendCall(
  input: AttentionInput,
  options: AttendCallOptions | undefined = {},
  validate: ValidateOptions = { checkFinite: false },
): AttendCall {
  const opts = expectOptions(options, 'attend');
  const shape = resolveAttentionShape(input, validate);
  const causal = expectCausal(opts.causal);
  expectCausalPositions(shape, causal);
  return {
    shape,
    input: withOffset(input, shape),
    causal,
    scale: resolveScale(opts.scale, shape.dim),
    mask: opts.mask === undefined ? undefined : toSparseMask(opts.mask, shape),
    scoreMod: expectScoreMod(opts.scoreMod),
    out: opts.out === undefined ? undefined : expectOutTensor(opts.out, shape, input),
  };
}

/**
 * Checks options.out: a HeadTensor of the output's shape [Hq, qLength, dim] whose memory overlaps none of q, k, v
 * (a backend may read any input row after writing any output row).
 */
function expectOutTensor(out: unknown, shape: AttentionShape, input: AttentionInput): HeadTensor {
  const t = expectHeadTensor(out, 'attend out');
  if (t.heads !== shape.heads || t.length !== shape.qLength || t.dim !== shape.dim) {
    throw new SparselandError(
      'E_SHAPE',
      `attend out must be [${shape.heads}, ${shape.qLength}, ${shape.dim}] (query heads, query length, dim), got [${t.heads}, ${t.length}, ${t.dim}]`,
    );
  }
  for (const [name, x] of [
    ['q', input.q],
    ['k', input.k],
    ['v', input.v],
  ] as const) {
    if (sharesMemory(t.data, x.data)) {
      throw new SparselandError('E_PARAMS', `attend out must not share memory with ${name}: pass a separate Float32Array`);
    }
  }
  return t;
}

/**
 * The result as the call asked for it: unchanged without options.out, else with its output copied into `out`
 * (for backends that compute into their own arrays and copy at the end).
 */
export function resultInto(out: HeadTensor | undefined, result: AttendResult): AttendResult {
  if (!out || out === result.output) return result;
  out.data.set(result.output.data);
  return { output: out, lse: result.lse };
}

/** Validates a `decode` call once, as resolveAttendCall does, with the selection checked to fit the cache. */
export function resolveDecodeCall(
  input: AttentionInput,
  options: DecodeOptions | undefined = {},
  validate: ValidateOptions = { checkFinite: false },
): DecodeCall {
  const opts = expectOptions(options, 'decode');
  const shape = resolveAttentionShape(input, validate);
  const selection = opts.selection;
  if (selection !== undefined) {
    if (!(selection instanceof TokenSelection)) {
      throw new SparselandError(
        'E_SHAPE',
        `decode selection must be a TokenSelection (TokenSelection.fromLists / TokenSelection.all), got ${describeValue(selection)}`,
      );
    }
    expectSelectionFits(selection, shape);
  }
  const causal = expectCausal(opts.causal);
  expectCausalPositions(shape, causal);
  return {
    shape,
    input: withOffset(input, shape),
    causal,
    scale: resolveScale(opts.scale, shape.dim),
    selection,
    scoreMod: expectScoreMod(opts.scoreMod),
  };
}

/** The options object of an op call (undefined reads as none). Shared with the packed decode resolver. */
export function expectOptions<T extends object>(options: T | undefined, op: string): Partial<T> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new SparselandError('E_PARAMS', `${op} options must be an object, got ${describeValue(options)}`);
  }
  return options;
}

function withOffset(input: AttentionInput, shape: AttentionShape): AttentionInput & { readonly qOffset: number } {
  return input.qOffset === shape.qOffset ? (input as AttentionInput & { qOffset: number }) : { ...input, qOffset: shape.qOffset };
}

/** `causal` of an op call: a boolean, true when absent. Shared with the packed decode resolver. */
export function expectCausal(causal: unknown): boolean {
  if (causal === undefined) return true;
  if (typeof causal !== 'boolean')
    throw new SparselandError('E_PARAMS', `causal must be a boolean (default true), got ${describeValue(causal)}`);
  return causal;
}

/**
 * A function scoreMod comes back wrapped in the finiteness rule (`expectModdedScore`), so every backend that applies
 * the resolved call's scoreMod refuses NaN and +Infinity the same way.
 */
function expectScoreMod(scoreMod: unknown): ScoreMod | undefined {
  if (scoreMod === undefined) return undefined;
  if (typeof scoreMod === 'function') {
    const mod = scoreMod as ScoreMod;
    return (s, h, q, k) => expectModdedScore(mod(s, h, q, k), h, q, k);
  }
  throw new SparselandError('E_PARAMS', `scoreMod must be a function (score, h, qPos, kPos) => number, got ${describeValue(scoreMod)}`);
}
