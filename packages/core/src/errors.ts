/** Every error code sparseland throws. The code is stable API; the message is for humans. */
export type SparselandErrorCode =
  | 'E_SHAPE'
  | 'E_PARAMS'
  | 'E_UNKNOWN_PLUGIN'
  | 'E_DUPLICATE_PLUGIN'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_MODEL_FORMAT'
  | 'E_NONFINITE'
  | 'E_BUDGET'
  | 'E_RECIPE';

/**
 * The one error class of the library. `code` is for programs, `message` says what was expected and what came
 * (prefixed with `[code]`), `reason` is the same text without the prefix (to wrap it in another message), `details`
 * carries machine-readable context (a JSON path, the allowed values, the plugin name...).
 */
export class SparselandError extends Error {
  override readonly name = 'SparselandError';
  readonly code: SparselandErrorCode;
  /** The message without its `[code] ` prefix. */
  readonly reason: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: SparselandErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(`[${code}] ${message}`);
    this.code = code;
    this.reason = message;
    this.details = Object.freeze({ ...details });
  }
}

/** True when `error` is a SparselandError, optionally with the given code. */
export function isSparselandError(error: unknown, code?: SparselandErrorCode): error is SparselandError {
  return error instanceof SparselandError && (code === undefined || error.code === code);
}

/** Throws E_PARAMS unless `value` is an integer in [min, max]. `what` names the parameter in the message. */
export function expectInteger(value: unknown, what: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in [${min}, ${max}]`;
    throw new SparselandError('E_PARAMS', `${what} must be ${range}, got ${describeValue(value)}`, { what, min, max });
  }
  return value;
}

/** Throws E_PARAMS unless `value` is a finite number in [min, max]. */
export function expectNumber(value: unknown, what: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new SparselandError('E_PARAMS', `${what} must be a finite number in [${min}, ${max}], got ${describeValue(value)}`, {
      what,
      min,
      max,
    });
  }
  return value;
}

/** A short printable description of any value, for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of length ${(value as unknown as ArrayLike<number>).length}`;
  return `an object with keys [${Object.keys(value as object)
    .slice(0, 8)
    .map((key) => (key.length > 60 ? `${key.slice(0, 57)}...` : key))
    .join(', ')}]`;
}
