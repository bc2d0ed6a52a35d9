import type { AttentionOptions } from './attention.js';
import type { Backend } from './backend.js';
import { describeValue, expectInteger, SparselandError } from './errors.js';
import { LIMITS } from './limits.js';
import type { ScoreMod } from './masks/mask-mod.js';
import { closestName } from './plugins/closest-name.js';
import { expectSeed } from './rng.js';

const KNOWN_OPTIONS: readonly (keyof AttentionOptions)[] = [
  'recipe',
  'mask',
  'registry',
  'backend',
  'causal',
  'scale',
  'scoreMod',
  'layer',
  'seed',
  'returnStats',
  'checkFinite',
];

/** attention()'s options after validation (scale is resolved later, once the head dim is known). */
export interface ResolvedAttentionOptions {
  readonly causal: boolean;
  readonly layer: number;
  readonly seed: number;
  readonly backend: Backend | undefined;
  readonly scoreMod: ScoreMod | undefined;
  readonly returnStats: boolean;
  readonly checkFinite: boolean;
}

/**
 * Checks attention()'s options object at the boundary: unknown keys (typos) are refused with the closest known
 * name, flags must be booleans (`causal: 'no'` must not mean causal), the seed and layer are bounded integers, a
 * backend must implement the Backend contract and a scoreMod must be a function.
 */
export function resolveAttentionOptions(options: unknown): ResolvedAttentionOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SparselandError('E_PARAMS', `attention() options must be an object, got ${describeValue(options)}`);
  }
  const o = options as AttentionOptions;
  for (const key of Object.keys(o)) {
    if (!(KNOWN_OPTIONS as readonly string[]).includes(key)) {
      const near = closestName(key, KNOWN_OPTIONS);
      throw new SparselandError(
        'E_PARAMS',
        `attention() has no option ${JSON.stringify(key.slice(0, 60))}${near ? ` (did you mean "${near}"?)` : ''}; options are ${KNOWN_OPTIONS.join(', ')}`,
        { option: key, suggestion: near },
      );
    }
  }
  if (o.recipe !== undefined && o.mask !== undefined) {
    throw new SparselandError('E_PARAMS', 'attention(): pass either recipe or mask, not both');
  }
  if (o.scoreMod !== undefined && typeof o.scoreMod !== 'function') {
    throw new SparselandError('E_PARAMS', `scoreMod must be a function (score, h, qPos, kPos) => number, got ${describeValue(o.scoreMod)}`);
  }
  return {
    causal: expectFlag(o.causal, 'causal', true),
    returnStats: expectFlag(o.returnStats, 'returnStats', true),
    checkFinite: expectFlag(o.checkFinite, 'checkFinite', true),
    layer: o.layer === undefined ? 0 : expectInteger(o.layer, 'layer', 0, LIMITS.layers - 1),
    seed: o.seed === undefined ? 0 : expectSeed(o.seed),
    backend: o.backend === undefined ? undefined : expectBackend(o.backend),
    scoreMod: o.scoreMod,
  };
}

function expectFlag(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new SparselandError('E_PARAMS', `${what} must be true or false, got ${describeValue(value)}`);
  return value;
}

const BACKEND_METHODS = [
  'attend',
  'decode',
  'pooledScores',
  'lastQueriesAttention',
  'lastQueriesSums',
  'quantizedScores',
  'dispose',
] as const;

function expectBackend(value: unknown): Backend {
  const missing =
    typeof value === 'object' && value !== null
      ? BACKEND_METHODS.filter((m) => typeof (value as Record<string, unknown>)[m] !== 'function')
      : BACKEND_METHODS;
  if (missing.length > 0) {
    throw new SparselandError(
      'E_PARAMS',
      `backend must be a Backend (create one with createCpuBackend(), createGpujsBackend() or createReferenceBackend()), got ${describeValue(value)} without ${missing.join(', ')}`,
    );
  }
  return value as Backend;
}
