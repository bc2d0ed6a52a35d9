import type { z } from 'zod';
import { describeValue, SparselandError, type SparselandErrorCode } from '../errors.js';

/** Joins a JSON path: ['layers', 3, 'heads', 5] → "layers.3.heads.5". */
export function joinPath(parts: readonly PropertyKey[]): string {
  return parts.map((p) => String(p)).join('.');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** One readable line per zod issue: the JSON path, what was allowed, and what came. */
export function describeZodIssues(error: z.ZodError, input: unknown, prefix: readonly PropertyKey[] = []): string[] {
  return error.issues.map((issue) => {
    const path = joinPath([...prefix, ...issue.path]);
    const got = describeValue(valueAt(input, issue.path));
    const where = path === '' ? '(root)' : path;
    const extra = issue.code === 'unrecognized_keys' ? '' : ` (got ${got})`;
    return `${where}: ${issue.message}${extra}`;
  });
}

/** Turns a failed zod parse into a SparselandError whose message names every offending path. */
export function zodFailure(
  code: SparselandErrorCode,
  context: string,
  error: z.ZodError,
  input: unknown,
  prefix: readonly PropertyKey[] = [],
): SparselandError {
  const lines = describeZodIssues(error, input, prefix);
  return new SparselandError(code, `${context}: ${lines.join('; ')}`, {
    issues: error.issues.map((i) => ({ path: joinPath([...prefix, ...i.path]), message: i.message, code: i.code })),
  });
}

/**
 * Validates an options object (a factory's, a policy's) with a zod schema: the parsed value, or E_PARAMS naming
 * every offending path. A strict schema also refuses typos (`{ thread: 2 }`) by name.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input ?? {});
  if (!result.success) throw zodFailure('E_PARAMS', `invalid options for ${what}`, result.error, input);
  return result.data;
}
