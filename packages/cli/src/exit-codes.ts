import { isSparselandError } from '@sparseland/core';

/** What `sparseland` exits with. Stable: scripts may test for them. */
export const EXIT = Object.freeze({
  ok: 0,
  /** An unexpected failure (a bug, an I/O error). */
  failure: 1,
  /** The command line or its inputs are wrong: unknown command, option, method or parameter. */
  usage: 2,
  /** Something needed is not available here: a backend that cannot run, a benchmark that is not installed. */
  unavailable: 3,
  /** A model or data file is malformed. */
  data: 4,
});

/** The exit code a thrown error maps to. */
export function exitCodeOf(error: unknown): number {
  if (isSparselandError(error)) {
    switch (error.code) {
      case 'E_BACKEND_UNAVAILABLE':
        return EXIT.unavailable;
      case 'E_MODEL_FORMAT':
      case 'E_NONFINITE':
        return EXIT.data;
      default:
        return EXIT.usage;
    }
  }
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof UnavailableError) return EXIT.unavailable;
  return EXIT.failure;
}

/** A mistake on the command line the CLI itself detects; its message starts with [E_USAGE] like a SparselandError's code. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'E_USAGE';
  constructor(message: string) {
    super(`[E_USAGE] ${message}`);
  }
}

/** Something the command needs is not installed or cannot run here ([E_UNAVAILABLE]). */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  readonly code = 'E_UNAVAILABLE';
  constructor(message: string) {
    super(`[E_UNAVAILABLE] ${message}`);
  }
}

/** A result could not be written (a full disk, a closed pipe): exit 1 with this message, never a stack trace. */
export class OutputError extends Error {
  override readonly name = 'OutputError';
  readonly code = 'E_OUTPUT';
  constructor(message: string) {
    super(`[E_OUTPUT] ${message}`);
  }
}
