import type { AttentionInput, HeadTensor } from '@sparseland/core';
import { createRng, type KeyGroups, MAX_SCORES_TOP_K, referenceScores, type ScoresOptions, type ScoresResult } from '@sparseland/core/kit';
import type { BackendCase } from './backend-cases.js';
import { thrown } from './case.js';
import { type CaseShape, caseInputs } from './inputs.js';
import { firstMismatch, type Tolerance } from './tolerance.js';

// Cases of Backend.scores. A float32 backend and the float64 reference may order two nearly equal scores
// differently, so selections (max / min / top-k indices, threshold bits) are checked for consistency: a key the
// backend chose differently must score, in the reference, within the tolerance of what it replaced. The tie cases
// use small integer inputs, whose scores every backend computes exactly: there the indices must be equal.

type ScoresInput = AttentionInput & { q: HeadTensor; k: HeadTensor };

interface ScoresSpec {
  readonly name: string;
  readonly shape: CaseShape;
  /** Integer-valued Q and K in [-2, 2]: exact scores everywhere, so ties are real ties. */
  readonly integers?: boolean;
  readonly options: (input: ScoresInput) => ScoresOptions;
}

function integerInputs(shape: CaseShape, seed: number): ScoresInput {
  const rng = createRng(seed);
  const tensor = (heads: number, length: number): HeadTensor => ({
    data: Float32Array.from({ length: heads * length * shape.dim }, () => rng.int(5) - 2),
    heads,
    length,
    dim: shape.dim,
  });
  const q = tensor(shape.qHeads, shape.qLength);
  const k = tensor(shape.kvHeads, shape.kvLength);
  return shape.qOffset === undefined ? { q, k, v: k } : { q, k, v: k, qOffset: shape.qOffset };
}

function scoresCase(spec: ScoresSpec): BackendCase {
  return {
    name: `scores: ${spec.name}`,
    op: 'scores',
    async run(backend, tol) {
      const input = spec.integers ? integerInputs(spec.shape, 13) : caseInputs(spec.shape, 12);
      const options = spec.options(input);
      const want = referenceScores(input, options);
      const got = await backend.scores(input, options);
      const exact = spec.integers === true;
      // Every score of the call in the reference, for checking what the backend selected.
      const all = options.keys && 'groups' in options.keys ? undefined : referenceScores(input, { ...options, output: true, reduce: {} });
      compareScores(this.name, got, want, all, tol, exact, options);
    },
  };
}

/**
 * A scores call every backend must refuse as the reference does (core's resolveScoresCall): the same error code and
 * the same message, so a user's mistake reads the same whichever backend runs.
 */
function scoresRejection(name: string, shape: CaseShape, options: (input: ScoresInput) => unknown): BackendCase {
  const refused = async (call: () => unknown) => (await thrown(call)) as { code?: unknown; message?: unknown } | undefined;
  return {
    name: `scores: rejects ${name}`,
    op: 'scores',
    async run(backend) {
      const input = caseInputs(shape, 14);
      const opts = options(input) as ScoresOptions;
      const want = await refused(() => referenceScores(input, opts));
      if (!want) fail(this.name, 'the reference accepts this call: the case is wrong');
      const got = await refused(() => backend.scores(input, opts));
      if (!got) fail(this.name, `the call was accepted; expected ${String(want.code)}: ${String(want.message)}`);
      if (got.code !== want.code || got.message !== want.message) {
        fail(this.name, `threw ${String(got.code)}: ${String(got.message)}; expected ${String(want.code)}: ${String(want.message)}`);
      }
    },
  };
}

/** Bad scores options: every backend validates them with core's resolveScoresCall. */
function scoresRejections(): BackendCase[] {
  const shape: CaseShape = { qHeads: 2, kvHeads: 1, qLength: 20, kvLength: 20, dim: 8 };
  return [
    scoresRejection('a scale that is not finite', shape, () => ({ scale: Number.NaN })),
    scoresRejection('rows that are not strictly increasing', shape, () => ({ rows: Int32Array.of(3, 3, 5) })),
    scoresRejection('a key range past the last key', shape, () => ({ keys: { start: 10, count: 11 } })),
    scoresRejection(`a top-k above MAX_SCORES_TOP_K (${MAX_SCORES_TOP_K})`, shape, () => ({ reduce: { topK: MAX_SCORES_TOP_K + 1 } })),
    scoresRejection('threshold bits with one threshold too few', shape, () => ({ reduce: { atLeast: new Float64Array(2 * 20 - 1) } })),
    scoresRejection('column maxima without key groups', shape, () => ({ reduce: { columnMax: true } })),
    scoresRejection('into.columnMax one entry shorter than the key list', shape, () => ({
      keys: { groups: Int32Array.of(0, 20), offsets: Int32Array.of(0, 1, 3), indices: Int32Array.of(0, 1, 2) },
      reduce: { columnMax: true },
      into: { columnMax: new Float32Array(2) },
    })),
    scoresRejection('into.columnMax without reduce.columnMax', shape, () => ({ into: { columnMax: new Float32Array(400) } })),
    scoresRejection('into.columnMax sharing memory with q', shape, (input) => ({
      keys: { groups: Int32Array.of(0, 20), offsets: Int32Array.of(0, 1, 2), indices: Int32Array.of(0, 1) },
      reduce: { columnMax: true },
      into: { columnMax: input.q.data.subarray(0, 2) },
    })),
    scoresRejection('key groups with a row reduction', shape, () => ({
      keys: { groups: Int32Array.of(0, 20), offsets: Int32Array.of(0, 1, 2), indices: Int32Array.of(0, 1) },
      reduce: { columnMax: true, max: true },
    })),
  ];
}

function fail(caseName: string, message: string): never {
  throw new Error(`${caseName}: ${message}`);
}

function compareScores(
  name: string,
  got: ScoresResult,
  want: ScoresResult,
  all: ScoresResult | undefined,
  tol: Tolerance,
  exact: boolean,
  options: ScoresOptions,
): void {
  if (got.kind !== 'scores' || got.heads !== want.heads || got.rows !== want.rows || got.keys !== want.keys) {
    fail(name, `got ${got.heads} heads × ${got.rows} rows × ${got.keys} keys, expected ${want.heads} × ${want.rows} × ${want.keys}`);
  }
  const close = (a: number, e: number) => a === e || Math.abs(a - e) <= tol.atol + tol.rtol * Math.abs(e);
  const check = (label: string, a: ArrayLike<number> | undefined, e: ArrayLike<number> | undefined) => {
    if ((a === undefined) !== (e === undefined)) fail(name, `${label}: ${a === undefined ? 'missing' : 'not asked for'}`);
    if (a && e) {
      const m = firstMismatch(a, e, tol.atol, tol.rtol, label);
      if (m) fail(name, m);
    }
  };
  check('scores', got.scores, want.scores);
  check('columnMax', got.columnMax, want.columnMax);
  const keys = want.keys;
  const slotOf = (key: number): number => {
    const k = options.keys;
    if (k === undefined) return key;
    if (k instanceof Int32Array) return k.indexOf(key);
    return 'start' in k ? key - k.start : -1;
  };
  /** The reference score of (row, key), or undefined when the key is not visible or not requested. */
  const refScore = (row: number, key: number): number | undefined => {
    const slot = slotOf(key);
    if (!all?.scores || slot < 0 || slot >= keys) return undefined;
    const v = all.scores[row * keys + slot] as number;
    return v === Number.NEGATIVE_INFINITY ? undefined : v;
  };
  const checkChoice = (label: string, row: number, gotKey: number, wantKey: number, wantValue: number) => {
    if (gotKey === wantKey) return;
    const s = gotKey >= 0 ? refScore(row, gotKey) : undefined;
    if (exact || s === undefined || wantKey < 0 || !close(s, wantValue)) {
      fail(name, `${label}[${row}] chose key ${gotKey}, expected ${wantKey} (reference score ${s ?? 'not visible'} vs ${wantValue})`);
    }
  };
  for (const which of ['max', 'min'] as const) {
    const g = got[which];
    const e = want[which];
    check(`${which}.values`, g?.values, e?.values);
    if (g && e)
      for (let row = 0; row < e.indices.length; row++)
        checkChoice(`${which}.indices`, row, g.indices[row] as number, e.indices[row] as number, e.values[row] as number);
  }
  if ((got.topK === undefined) !== (want.topK === undefined)) fail(name, 'topK missing or not asked for');
  if (got.topK && want.topK) {
    const { k } = want.topK;
    if (got.topK.k !== k) fail(name, `topK.k = ${got.topK.k}, expected ${k}`);
    check('topK.values', got.topK.values, want.topK.values);
    for (let row = 0; row < got.heads * got.rows; row++) {
      const seen = new Set<number>();
      for (let t = 0; t < k; t++) {
        const at = row * k + t;
        const key = got.topK.indices[at] as number;
        if (key >= 0 && seen.has(key)) fail(name, `topK of row ${row} lists key ${key} twice`);
        seen.add(key);
        checkChoice('topK.indices', row, key, want.topK.indices[at] as number, want.topK.values[at] as number);
      }
    }
  }
  if ((got.moments === undefined) !== (want.moments === undefined)) fail(name, 'moments missing or not asked for');
  if (got.moments && want.moments && all?.scores) {
    for (let row = 0; row < want.moments.count.length; row++) {
      if (got.moments.count[row] !== want.moments.count[row]) {
        fail(name, `moments.count[${row}] = ${got.moments.count[row]}, expected ${want.moments.count[row]}`);
      }
      let abs = 0;
      let sq = 0;
      for (let j = 0; j < keys; j++) {
        const v = all.scores[row * keys + j] as number;
        if (v > Number.NEGATIVE_INFINITY) {
          abs += Math.abs(v);
          sq += v * v;
        }
      }
      const n = want.moments.count[row] as number;
      for (const [label, a, e, bound] of [
        ['sum', got.moments.sum[row], want.moments.sum[row], abs],
        ['sumSquares', got.moments.sumSquares[row], want.moments.sumSquares[row], sq],
      ] as const) {
        if (!(Math.abs((a as number) - (e as number)) <= tol.atol * n + tol.rtol * (bound as number))) {
          fail(name, `moments.${label}[${row}] = ${a}, expected ${e}`);
        }
      }
    }
  }
  if ((got.atLeast === undefined) !== (want.atLeast === undefined)) fail(name, 'atLeast missing or not asked for');
  if (got.atLeast && want.atLeast && options.reduce?.atLeast) {
    const { words } = want.atLeast;
    if (got.atLeast.words !== words) fail(name, `atLeast.words = ${got.atLeast.words}, expected ${words}`);
    for (let row = 0; row < got.heads * got.rows; row++) {
      const threshold = options.reduce.atLeast[row] as number;
      for (let j = 0; j < keys; j++) {
        const bit = (w: Int32Array) => ((w[row * words + (j >> 5)] as number) >>> (j & 31)) & 1;
        if (bit(got.atLeast.bits) === bit(want.atLeast.bits)) continue;
        const s = all?.scores?.[row * keys + j] as number;
        if (exact || !(s > Number.NEGATIVE_INFINITY) || !close(s, threshold)) {
          fail(name, `atLeast bit of row ${row}, key slot ${j} is ${bit(got.atLeast.bits)} (score ${s}, threshold ${threshold})`);
        }
      }
    }
  }
}

/** Thresholds near the middle of each row's scores: some keys pass, some do not. */
function midThresholds(input: ScoresInput, options: ScoresOptions): Float64Array {
  const r = referenceScores(input, { ...options, reduce: { max: true, min: true } });
  const max = r.max?.values ?? new Float32Array(0);
  const min = r.min?.values ?? new Float32Array(0);
  return Float64Array.from(max, (m, i) => (Number.isFinite(m) ? (m + (min[i] as number)) / 2 : 0));
}

/**
 * Every scores case: odd sizes, GQA, qOffset, ranges and lists, windows, pooled rows, empty rows, ties, k > visible
 * keys, and calls every backend must refuse as the reference does.
 */
export function scoresCases(): BackendCase[] {
  return [
    scoresCase({
      name: 'all rows and keys, causal, GQA 2:1, d=64, N=100',
      shape: { qHeads: 4, kvHeads: 2, qLength: 100, kvLength: 100, dim: 64 },
      options: () => ({}),
    }),
    scoresCase({
      name: 'non-causal, scale 0.3, row and key ranges, odd sizes (q 37 × kv 81, d=8)',
      shape: { qHeads: 2, kvHeads: 1, qLength: 37, kvLength: 81, dim: 8 },
      options: () => ({ causal: false, scale: 0.3, rows: { start: 5, count: 20 }, keys: { start: 7, count: 60 } }),
    }),
    scoresCase({
      name: 'explicit qOffset, row and key lists, window 9, with max and min (d=12)',
      shape: { qHeads: 2, kvHeads: 1, qLength: 30, kvLength: 90, dim: 12, qOffset: 40 },
      options: () => ({
        rows: Int32Array.of(0, 3, 4, 17, 29),
        keys: Int32Array.from({ length: 40 }, (_, j) => 2 * j + 5),
        window: 9,
        output: true,
        reduce: { max: true, min: true },
      }),
    }),
    scoresCase({
      name: 'rows and keys across several 64-tiles (q 130 × kv 150), every reduction, GQA 3:1',
      shape: { qHeads: 3, kvHeads: 1, qLength: 130, kvLength: 150, dim: 64 },
      options: (input) => {
        const base: ScoresOptions = { scale: 0.125 };
        return { ...base, output: true, reduce: { max: true, min: true, topK: 7, moments: true, atLeast: midThresholds(input, base) } };
      },
    }),
    scoresCase({
      name: 'pooled query blocks of 16 (last block short), top-k, moments and threshold bits, GQA 2:1',
      shape: { qHeads: 4, kvHeads: 2, qLength: 100, kvLength: 100, dim: 64 },
      options: (input) => {
        const base: ScoresOptions = { queryBlock: 16, scale: 0.125 };
        return { ...base, reduce: { topK: 12, moments: true, atLeast: midThresholds(input, base) } };
      },
    }),
    scoresCase({
      name: 'top-k over many keys (k 37 of kv 700), rows of a decode-like chunk',
      shape: { qHeads: 2, kvHeads: 1, qLength: 5, kvLength: 700, dim: 16 },
      options: () => ({ reduce: { topK: 37, max: true } }),
    }),
    scoresCase({
      name: 'one-token decode shape (kv 257, GQA 4:1): top-16 and max',
      shape: { qHeads: 4, kvHeads: 1, qLength: 1, kvLength: 257, dim: 64 },
      options: () => ({ reduce: { topK: 16, max: true } }),
    }),
    scoresCase({
      name: 'a key range starting on a 64-key boundary (keys 64–193 of kv 200, d=12), every reduction but bits',
      shape: { qHeads: 2, kvHeads: 1, qLength: 40, kvLength: 200, dim: 12, qOffset: 160 },
      options: () => ({ keys: { start: 64, count: 130 }, output: true, reduce: { max: true, min: true, topK: 5, moments: true } }),
    }),
    scoresCase({
      name: 'causal rows with no visible key (keys after them): -Infinity, key -1, count 0, no bits',
      shape: { qHeads: 2, kvHeads: 1, qLength: 20, kvLength: 80, dim: 8, qOffset: 10 },
      options: () => ({
        keys: { start: 25, count: 40 },
        output: true,
        reduce: { max: true, min: true, topK: 3, moments: true, atLeast: new Float64Array(40).fill(Number.NEGATIVE_INFINITY) },
      }),
    }),
    scoresCase({
      name: 'ties go to the lower key (integer inputs), k larger than the visible keys',
      integers: true,
      shape: { qHeads: 2, kvHeads: 2, qLength: 9, kvLength: 70, dim: 4 },
      options: () => ({ reduce: { topK: 40, max: true, min: true, atLeast: new Float64Array(18).fill(1) } }),
    }),
    scoresCase({
      name: 'ties over several tiles, non-causal (integer inputs, kv 300, k 90)',
      integers: true,
      shape: { qHeads: 1, kvHeads: 1, qLength: 3, kvLength: 300, dim: 3 },
      options: () => ({ causal: false, reduce: { topK: 90, max: true, min: true } }),
    }),
    scoresCase({
      name: 'column maxima per key group: uneven groups, an empty group and empty lists, causal, GQA 2:1',
      shape: { qHeads: 4, kvHeads: 2, qLength: 70, kvLength: 120, dim: 8 },
      options: () => {
        const groups = Int32Array.of(0, 3, 3, 40, 70);
        const lists: number[][] = [];
        for (let h = 0; h < 4; h++) {
          for (let t = 0; t < 4; t++) {
            const list: number[] = [];
            if ((h + t) % 3 !== 2) for (let key = (h * 7 + t) % 5; key < 120; key += 3 + t) list.push(key);
            lists.push(list);
          }
        }
        return { keys: keyGroups(groups, lists), reduce: { columnMax: true } };
      },
    }),
    scoresCase({
      // HiP's shape of call: every row of a group sees every listed key (a backend may then take keys as rows).
      name: 'column maxima per key group, non-causal: groups of 32, 50 and 68 rows, lists over 3 tiles, GQA 2:1, d=64',
      shape: { qHeads: 4, kvHeads: 2, qLength: 150, kvLength: 300, dim: 64 },
      options: () => {
        const groups = Int32Array.of(0, 32, 82, 150);
        const lists: number[][] = [];
        for (let h = 0; h < 4; h++) {
          for (let t = 0; t < 3; t++) {
            const list: number[] = [];
            for (let key = (h + 2 * t) % 3; key < 300; key += 1 + ((key + h + t) % 3)) list.push(key);
            lists.push(list);
          }
        }
        return { causal: false, keys: keyGroups(groups, lists), reduce: { columnMax: true } };
      },
    }),
    columnMaxIntoCase(),
    preparedInputCase(),
    ...scoresRejections(),
  ];
}

/** Key groups from one key list per (query head, group), head-major: the offsets are the lists' running lengths. */
function keyGroups(groups: Int32Array, lists: readonly (readonly number[])[]): KeyGroups {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((l, i) => {
    offsets[i + 1] = (offsets[i] as number) + l.length;
  });
  return { groups, offsets, indices: Int32Array.from(lists.flat()) };
}

/**
 * Backend.prepareScoreInput (optional; without it the plain input runs the same calls): a series of calls on one
 * prepared input, as HiP's levels make them: column maxima for two different key lists, then other rows (output and
 * max), then a packed key range, so a backend keeping copies must notice changed rows and keep both key layouts.
 * After release() the prepared input must still work and must see changes made to k since.
 */
function preparedInputCase(): BackendCase {
  const shape: CaseShape = { qHeads: 4, kvHeads: 2, qLength: 96, kvLength: 200, dim: 16, qOffset: 104 };
  return {
    name: 'scores: a series of calls on one prepared input (Backend.prepareScoreInput), and after its release',
    op: 'scores',
    async run(backend, tol) {
      const input = caseInputs(shape, 16);
      const prepared = backend.prepareScoreInput?.(input) ?? input;
      if (prepared.q !== input.q || prepared.k !== input.k || prepared.qOffset !== input.qOffset) {
        fail(this.name, 'the prepared input must have the same q, k and qOffset');
      }
      const groups = Int32Array.of(0, 32, 96);
      const lists = (step: number) =>
        keyGroups(
          groups,
          Array.from({ length: 8 }, (_, g) => {
            const list: number[] = [];
            for (let key = g % step; key < 200; key += step) list.push(key);
            return list;
          }),
        );
      const calls: [string, ScoresOptions][] = [
        ['column maxima, keys every 3rd', { causal: false, rows: { start: 0, count: 96 }, keys: lists(3), reduce: { columnMax: true } }],
        ['column maxima, keys every 2nd', { causal: false, rows: { start: 0, count: 96 }, keys: lists(2), reduce: { columnMax: true } }],
        ['other rows, output and max', { rows: Int32Array.of(1, 5, 40, 95), output: true, reduce: { max: true } }],
        ['a packed key range', { keys: { start: 64, count: 120 }, output: true, reduce: { max: true } }],
      ];
      const check = async (label: string, options: ScoresOptions) => {
        const got = await backend.scores(prepared, options);
        const all = options.keys && 'groups' in options.keys ? undefined : referenceScores(input, { ...options, output: true, reduce: {} });
        compareScores(`${this.name} (${label})`, got, referenceScores(input, options), all, tol, false, options);
      };
      for (const [label, options] of calls) await check(label, options);
      if ('release' in prepared) prepared.release();
      // The caller may change k once the input is released: the next call must read the new keys.
      for (let i = 0; i < input.k.data.length; i += 3) input.k.data[i] = -(input.k.data[i] as number);
      for (const [label, options] of calls) await check(`after release, k changed: ${label}`, options);
    },
  };
}

/**
 * ScoresOptions.into.columnMax: one NaN-filled array longer than either call's list, reused for two calls with
 * different lists (the HiP loop). Each result's columnMax must be a view of its first indices.length entries holding
 * the reference's maxima, and the entries past them must be left as they were.
 */
function columnMaxIntoCase(): BackendCase {
  const shape: CaseShape = { qHeads: 4, kvHeads: 2, qLength: 96, kvLength: 200, dim: 64 };
  return {
    name: 'scores: column maxima into options.into.columnMax (reused, longer than the list)',
    op: 'scores',
    async run(backend, tol) {
      const input = caseInputs(shape, 15);
      const target = new Float32Array(2000).fill(Number.NaN);
      for (const step of [3, 2]) {
        const groups = Int32Array.of(0, 32, 64, 96);
        const lists: number[][] = [];
        for (let g = 0; g < 12; g++) {
          const list: number[] = [];
          for (let key = g % step; key < 200; key += step + (g % 2)) list.push(key);
          lists.push(list);
        }
        const keys = keyGroups(groups, lists);
        const { indices } = keys;
        const options: ScoresOptions = { causal: step === 2, keys, reduce: { columnMax: true } };
        const want = referenceScores(input, options);
        const got = await backend.scores(input, { ...options, into: { columnMax: target } });
        const view = got.columnMax;
        if (!view || view.buffer !== target.buffer || view.byteOffset !== target.byteOffset || view.length !== indices.length) {
          fail(this.name, `columnMax is not the first ${indices.length} entries of into.columnMax`);
        }
        compareScores(`${this.name} (list step ${step})`, got, want, undefined, tol, false, options);
        if (step === 3 && !target.subarray(indices.length).every(Number.isNaN)) fail(this.name, 'entries past the list were written');
      }
    },
  };
}
