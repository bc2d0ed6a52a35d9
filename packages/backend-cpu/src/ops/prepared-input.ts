import type { PreparedScoreInput, ScoreInput } from '@sparseland/core/kit';
import type { Executor } from '../executor.js';

/**
 * Copies of a prepared score input (`Backend.prepareScoreInput`) in the executor's arena, where they outlive a call:
 * the query rows of the last (rows, query block) a `scores` call asked for, and the keys in each layout asked for
 * (row-major, or packed 64-key tiles). Each is made by the first call that needs it, inside that call's exclusive
 * section, and read in place by the later ones. A HiP build makes 12 calls on one input, and copying its query rows
 * and keys per call kept the workers idle for 4–12 ms each (the calls hold the memory one at a time).
 */
interface PreparedCopies {
  released: boolean;
  queries: QueryCopy | undefined;
  readonly keys: Map<KeyLayout, Region>;
}

interface Region {
  readonly at: number;
  readonly floats: number;
}

interface QueryCopy extends Region {
  /** The requested rows the copy holds (compared by value: callers may pass a new array with the same rows). */
  readonly rows: Int32Array;
  readonly queryBlock: number;
}

export type KeyLayout = 'packed' | 'rows';

const copiesOf = new WeakMap<object, PreparedCopies>();

/** Backend.prepareScoreInput: the same q, k and qOffset; copies are made by the first `scores` call that needs them. */
export function prepareScoreInput(exec: Executor, input: ScoreInput): PreparedScoreInput {
  const copies: PreparedCopies = { released: false, queries: undefined, keys: new Map() };
  const prepared: PreparedScoreInput = {
    q: input.q,
    k: input.k,
    ...(input.qOffset === undefined ? {} : { qOffset: input.qOffset }),
    release() {
      if (copies.released) return;
      copies.released = true;
      // The arena may change only inside `exclusive`, so the regions are freed once the calls under way are done.
      // After `dispose()` there is nothing left to free, hence the empty catch.
      exec
        .exclusive(async () => {
          if (copies.queries) exec.arena.free(copies.queries.at, copies.queries.floats);
          for (const region of copies.keys.values()) exec.arena.free(region.at, region.floats);
          copies.queries = undefined;
          copies.keys.clear();
        })
        .catch(() => {});
    },
  };
  copiesOf.set(prepared, copies);
  return prepared;
}

/**
 * Inside a call's exclusive section, before its layout: the arena index of the prepared copy of the call's query
 * rows (`floats` elements, filled by `write` when made or when the rows changed), or -1 when `input` is not a live
 * prepared input.
 */
export function preparedQueries(
  exec: Executor,
  input: ScoreInput,
  rows: Int32Array,
  queryBlock: number,
  floats: number,
  write: (f32: Float32Array, at: number) => void,
): number {
  const copies = copiesOf.get(input);
  if (!copies || copies.released) return -1;
  const held = copies.queries;
  if (held && held.queryBlock === queryBlock && held.floats === floats && sameRows(held.rows, rows)) return held.at;
  if (held) exec.arena.free(held.at, held.floats);
  const at = copyIntoArena(exec, floats, write);
  copies.queries = { at, floats, rows: rows.slice(), queryBlock };
  return at;
}

/** As preparedQueries, for the keys in one layout (they do not change between calls). */
export function preparedKeys(
  exec: Executor,
  input: ScoreInput,
  layout: KeyLayout,
  floats: number,
  write: (f32: Float32Array, at: number) => void,
): number {
  const copies = copiesOf.get(input);
  if (!copies || copies.released) return -1;
  const held = copies.keys.get(layout);
  if (held) return held.at;
  const at = copyIntoArena(exec, floats, write);
  copies.keys.set(layout, { at, floats });
  return at;
}

/** A new arena region of `floats` elements, filled by `write` (after the memory grew to hold it). */
function copyIntoArena(exec: Executor, floats: number, write: (f32: Float32Array, at: number) => void): number {
  const at = exec.hold(floats);
  write(exec.memory.views.f32, at);
  return at;
}

function sameRows(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
