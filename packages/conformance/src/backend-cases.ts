import {
  type AttendResult,
  and,
  type Backend,
  blockMaskFromScores,
  ColumnMask,
  causal,
  createBlockMask,
  createHeadTensor,
  type HeadTensor,
  type ReferenceDecodeOptions,
  type ReferenceOptions,
  referenceAttention,
  referenceDecode,
  type SparseMask,
  TokenSelection,
} from '@sparseland/core';
import {
  type BlockScores,
  buildBlockMask,
  createRng,
  type PooledScoresOptions,
  referenceLastQueriesAttention,
  referenceLastQueriesSums,
  referencePooledScores,
  referenceQuantizedScores,
  type ScoreRows,
} from '@sparseland/core/kit';
import { thrown } from './case.js';
import { type CaseShape, caseInputs, maskShapeOf } from './inputs.js';
import { kvStoreCases, linearCases } from './model-op-cases.js';
import { packedDecodeCases } from './packed-decode-cases.js';
import { scoresCases } from './scores-cases.js';
import { firstMismatch, type Tolerance } from './tolerance.js';

/** Which Backend op a case exercises (filters may exclude whole ops). */
export type BackendOp =
  | 'attend'
  | 'decode'
  | 'decodePacked'
  | 'pooledScores'
  | 'lastQueriesAttention'
  | 'lastQueriesSums'
  | 'quantizedScores'
  | 'scores'
  | 'linear'
  | 'kvStore';

/**
 * One conformance case: runs an op on the backend and on the reference with the same inputs, and throws an Error
 * naming the first mismatch. Framework-free, so the same cases run under vitest in Node and in a browser page.
 */
export interface BackendCase {
  readonly name: string;
  readonly op: BackendOp;
  run(backend: Backend, tolerance: Tolerance): Promise<void>;
}

function fail(caseName: string, message: string): never {
  throw new Error(`${caseName}: ${message}`);
}

function expectClose(caseName: string, got: AttendResult, want: AttendResult, tol: Tolerance): void {
  if (got.output.heads !== want.output.heads || got.output.length !== want.output.length || got.output.dim !== want.output.dim) {
    fail(
      caseName,
      `output shape [${got.output.heads}, ${got.output.length}, ${got.output.dim}], expected [${want.output.heads}, ${want.output.length}, ${want.output.dim}]`,
    );
  }
  const out = firstMismatch(got.output.data, want.output.data, tol.atol, tol.rtol, 'output');
  if (out) fail(caseName, out);
  const lse = firstMismatch(got.lse, want.lse, tol.lseAtol, 0, 'lse');
  if (lse) fail(caseName, lse);
}

interface AttendSpec {
  readonly name: string;
  readonly shape: CaseShape;
  readonly causal?: boolean;
  readonly scale?: number;
  readonly scoreMod?: (s: number, h: number, q: number, k: number) => number;
  readonly mask?: (shape: ReturnType<typeof maskShapeOf>) => SparseMask;
  readonly seed?: number;
}

function attendCase(spec: AttendSpec): BackendCase {
  return {
    name: `attend: ${spec.name}`,
    op: 'attend',
    async run(backend, tol) {
      const input = caseInputs(spec.shape, spec.seed ?? 7);
      const mask = spec.mask?.(maskShapeOf(spec.shape));
      const options = { mask, causal: spec.causal ?? true, scale: spec.scale, scoreMod: spec.scoreMod };
      const want = referenceAttention(input, options);
      const got = await backend.attend(input, options);
      expectClose(this.name, got, want, tol);
    },
  };
}

/** A random block mask: ~40% of key blocks per row as full blocks, a few as partial with a striped MaskMod. */
function randomBlocks(blockQ: number, blockK: number, seed: number) {
  return (shape: ReturnType<typeof maskShapeOf>): SparseMask => {
    const rng = createRng(seed);
    const kBlocks = Math.ceil(shape.kvLength / blockK);
    const stripes = (h: number, q: number, k: number) => (q + 2 * k + h) % 3 !== 0;
    return {
      blocks: buildBlockMask(shape, { blockQ, blockK }, { maskMod: stripes }, (_h, _qb, full, partial) => {
        for (let kb = 0; kb < kBlocks; kb++) {
          const r = rng.next();
          if (r < 0.4) full.push(kb);
          else if (r < 0.55) partial.push(kb);
        }
      }),
    };
  };
}

/**
 * A vertical-slash mask: `count` seeded key columns per column head (1 = shared by every head), each query block of
 * `blockQ` rows keeping those up to its last row, plus the diagonal and sink blocks and one block diagonal further back.
 */
function verticalSlash(s: ReturnType<typeof maskShapeOf>, heads: number, count: number, blockQ: number, seed: number): SparseMask {
  const rng = createRng(seed);
  const lists = Array.from({ length: heads }, () => {
    const set = new Set<number>();
    while (set.size < Math.min(count, s.kvLength)) set.add(rng.int(s.kvLength));
    return Int32Array.from(set).sort();
  });
  return {
    blocks: buildBlockMask(s, { blockQ, blockK: blockQ }, { heads: heads === 1 ? 1 : s.heads }, (_h, qb, full) => {
      const diagonal = Math.floor((s.qOffset + qb * blockQ) / blockQ);
      full.pushAll([...new Set([0, Math.max(0, diagonal - 3), diagonal])].sort((a, b) => a - b));
    }),
    columns: ColumnMask.build(s, blockQ, { heads }, (h, qb, out) => {
      const last = s.qOffset + Math.min(s.qLength, (qb + 1) * blockQ);
      for (const k of lists[h] as Int32Array) if (k < last) out.push(k);
    }),
  };
}

function windowSink(window: number, sink: number) {
  return (_h: number, q: number, k: number) => q - k < window || k < sink;
}

/** Every attend case: dense, masks of every form, odd sizes, GQA, qOffset, decode-shaped, empty rows, scoreMod. */
export function attendCases(): BackendCase[] {
  return [
    attendCase({ name: 'dense causal, 1 token', shape: { qHeads: 1, kvHeads: 1, qLength: 1, kvLength: 1, dim: 8 } }),
    attendCase({ name: 'dense causal, odd length 37, d=8', shape: { qHeads: 2, kvHeads: 2, qLength: 37, kvLength: 37, dim: 8 } }),
    attendCase({ name: 'dense causal, GQA 4:1, d=64, N=70', shape: { qHeads: 4, kvHeads: 1, qLength: 70, kvLength: 70, dim: 64 } }),
    attendCase({ name: 'dense causal, GQA 2:1, d=64, N=129', shape: { qHeads: 4, kvHeads: 2, qLength: 129, kvLength: 129, dim: 64 } }),
    attendCase({
      name: 'dense non-causal, q 17 × kv 29',
      causal: false,
      shape: { qHeads: 2, kvHeads: 1, qLength: 17, kvLength: 29, dim: 8 },
    }),
    attendCase({
      name: 'chunked prefill (default qOffset), q 19 of kv 77',
      shape: { qHeads: 4, kvHeads: 2, qLength: 19, kvLength: 77, dim: 64 },
    }),
    attendCase({
      name: 'explicit qOffset in the middle of the cache',
      shape: { qHeads: 2, kvHeads: 1, qLength: 13, kvLength: 60, dim: 8, qOffset: 20 },
    }),
    attendCase({ name: 'one-token decode shape, kv 100, GQA 4:1', shape: { qHeads: 4, kvHeads: 1, qLength: 1, kvLength: 100, dim: 64 } }),
    attendCase({ name: 'custom scale', scale: 0.05, shape: { qHeads: 2, kvHeads: 2, qLength: 20, kvLength: 20, dim: 8 } }),
    attendCase({
      name: 'scoreMod (ALiBi-style bias)',
      scoreMod: (s, h, q, k) => s - 0.125 * (h + 1) * (q - k),
      shape: { qHeads: 2, kvHeads: 1, qLength: 33, kvLength: 33, dim: 8 },
    }),
    attendCase({
      // -Infinity from a scoreMod drops the pair (the reference computes it as a mask would).
      name: 'scoreMod returning -Infinity for some pairs (drops them)',
      scoreMod: (s, _h, q, k) => ((q + k) % 3 === 0 && k !== q ? -Infinity : s),
      shape: { qHeads: 2, kvHeads: 1, qLength: 29, kvLength: 29, dim: 8 },
    }),
    attendCase({
      name: 'BlockMask from a MaskMod (window + sink), blocks 16×32 on N=100',
      shape: { qHeads: 4, kvHeads: 2, qLength: 100, kvLength: 100, dim: 64 },
      mask: (s) => ({ blocks: createBlockMask(and(causal, windowSink(24, 4)), s, { blockQ: 16, blockK: 32 }) }),
    }),
    attendCase({
      name: 'BlockMask with full blocks only, non-causal',
      causal: false,
      shape: { qHeads: 2, kvHeads: 2, qLength: 45, kvLength: 45, dim: 8 },
      mask: (s) => {
        const scores = new Float32Array(2 * 3 * 3).map((_, i) => (i * 37) % 11);
        const bs: BlockScores = { kind: 'blocks', data: scores, heads: 2, qBlocks: 3, kBlocks: 3, blockQ: 16, blockK: 16 };
        return { blocks: blockMaskFromScores(bs, s, { topK: 2 }) };
      },
    }),
    attendCase({
      name: 'random full + partial blocks, GQA 4:2, d=64, N=150, blocks 32×16',
      shape: { qHeads: 4, kvHeads: 2, qLength: 150, kvLength: 150, dim: 64 },
      mask: randomBlocks(32, 16, 3),
    }),
    attendCase({
      name: 'random blocks with qOffset (chunk 50 of 150)',
      shape: { qHeads: 2, kvHeads: 1, qLength: 50, kvLength: 150, dim: 8 },
      mask: randomBlocks(16, 16, 4),
    }),
    attendCase({
      name: 'ColumnMask alone (vertical lines), blockQ 8',
      shape: { qHeads: 2, kvHeads: 1, qLength: 40, kvLength: 40, dim: 8 },
      mask: (s) => ({ columns: ColumnMask.build(s, 8, {}, (h, qb, out) => out.pushAll([0, 3 + h, 10 + qb, 33])) }),
    }),
    attendCase({
      name: 'blocks ∪ columns with overlapping keys (each key once)',
      shape: { qHeads: 4, kvHeads: 2, qLength: 77, kvLength: 77, dim: 64 },
      mask: (s) => ({
        blocks: createBlockMask(and(causal, windowSink(20, 0)), s, { blockQ: 16, blockK: 16 }),
        columns: ColumnMask.build(s, 16, {}, (h, qb, out) => {
          for (let k = (h + qb) % 5; k < s.kvLength; k += 7) out.push(k);
        }),
      }),
    }),
    attendCase({
      // MInference's vertical lines: the same columns in every query block (up to the block's last row), so a backend
      // may gather them once per call (backend-cpu's column pools) — runs of them read in place of gathering.
      name: 'vertical lines shared by every block and head ∪ block diagonals, GQA 4:2, N=300, blockQ 32',
      shape: { qHeads: 4, kvHeads: 2, qLength: 300, kvLength: 300, dim: 64 },
      mask: (s) => verticalSlash(s, 1, 90, 32, 9),
    }),
    attendCase({
      name: 'vertical lines per head ∪ block diagonals, chunk 150 of 300 (qOffset)',
      shape: { qHeads: 4, kvHeads: 2, qLength: 150, kvLength: 300, dim: 64 },
      mask: (s) => verticalSlash(s, s.heads, 70, 16, 10),
    }),
    attendCase({
      name: 'broadcast mask (heads = 1) over 4 query heads',
      shape: { qHeads: 4, kvHeads: 2, qLength: 64, kvLength: 64, dim: 8 },
      mask: (s) => ({ blocks: createBlockMask(windowSink(9, 2), s, { blockQ: 16, blockK: 16, broadcast: true }) }),
    }),
    attendCase({
      name: 'empty rows: query blocks with no kept key give zeros and lse = -Infinity',
      shape: { qHeads: 2, kvHeads: 1, qLength: 48, kvLength: 48, dim: 8 },
      mask: (s) => ({
        blocks: buildBlockMask(s, { blockQ: 16, blockK: 16 }, {}, (h, qb, full) => {
          if ((qb + h) % 2 === 0) full.push(0);
        }),
      }),
    }),
    attendCase({
      name: 'partial block whose MaskMod keeps nothing in some rows',
      shape: { qHeads: 1, kvHeads: 1, qLength: 20, kvLength: 20, dim: 8 },
      mask: (s) => ({ blocks: createBlockMask((_h, q, k) => q % 3 !== 0 && k === 1, s, { blockQ: 8, blockK: 8 }) }),
    }),
    intoOutCase(),
    ...[64, 6].map(backendTensorCase),
    ...attendRejections(),
  ];
}

/**
 * AttendOptions.out: the output is written into the caller's tensor (result.output is that tensor), every value of
 * it: a tensor full of NaN from before, reused for two calls whose masks leave different rows empty, must hold
 * exactly the reference's output (zeros for the empty rows) after each.
 */
function intoOutCase(): BackendCase {
  const shape: CaseShape = { qHeads: 4, kvHeads: 2, qLength: 70, kvLength: 70, dim: 64 };
  return {
    name: 'attend: into options.out (reused, empty rows zeroed)',
    op: 'attend',
    async run(backend, tol) {
      const s = maskShapeOf(shape);
      const out = createHeadTensor(
        shape.qHeads,
        shape.qLength,
        shape.dim,
        new Float32Array(shape.qHeads * shape.qLength * shape.dim).fill(Number.NaN),
      );
      for (const parity of [0, 1]) {
        const input = caseInputs(shape, 21 + parity);
        const mask: SparseMask = {
          blocks: buildBlockMask(s, { blockQ: 16, blockK: 16 }, {}, (h, qb, full) => {
            if ((qb + h + parity) % 2 === 0) full.pushAll(qb === 0 ? [0] : [0, qb]);
          }),
        };
        const got = await backend.attend(input, { mask, out });
        if (got.output !== out) fail(this.name, 'result.output is not options.out');
        expectClose(`${this.name} (call ${parity + 1})`, got, referenceAttention(input, { mask }), tol);
      }
    },
  };
}

/**
 * Backend.allocateTensor (optional; without it the same calls run on createHeadTensor's tensors): q, k, v and out in
 * the backend's memory, zero-filled when made, must give the reference's results; out (NaN from before) must be the
 * result's output; q and v changed in place between calls must be read anew (no copy kept by tensor identity); decode
 * reads such a q too. Head dim 64 and 6: a backend may read only some layouts in place.
 */
function backendTensorCase(dim: number): BackendCase {
  const shape: CaseShape = { qHeads: 4, kvHeads: 2, qLength: 70, kvLength: 70, dim };
  const name = `attend: on the backend's own tensors (Backend.allocateTensor), dim ${dim}`;
  return {
    name,
    op: 'attend',
    async run(backend, tol) {
      const s = maskShapeOf(shape);
      const allocate = async (heads: number, length: number) =>
        (await backend.allocateTensor?.(heads, length, dim)) ?? { tensor: createHeadTensor(heads, length, dim), release() {} };
      const owned = [
        await allocate(shape.qHeads, shape.qLength),
        await allocate(shape.kvHeads, shape.kvLength),
        await allocate(shape.kvHeads, shape.kvLength),
        await allocate(shape.qHeads, shape.qLength),
      ];
      const [q, k, v, out] = owned.map((o) => o.tensor) as [HeadTensor, HeadTensor, HeadTensor, HeadTensor];
      for (const [i, t] of [q, k, v, out].entries()) {
        if (
          t.heads !== (i === 1 || i === 2 ? shape.kvHeads : shape.qHeads) ||
          t.dim !== dim ||
          t.data.length !== t.heads * t.length * dim
        ) {
          fail(name, `tensor ${i} has shape [${t.heads}, ${t.length}, ${t.dim}] (${t.data.length} values)`);
        }
        if (t.data.some((x) => x !== 0)) fail(name, `tensor ${i} is not zero-filled when allocated`);
      }
      const mask: SparseMask = {
        blocks: buildBlockMask(s, { blockQ: 16, blockK: 16 }, {}, (h, qb, full) => {
          if ((qb + h) % 3 !== 1) full.pushAll(qb === 0 ? [0] : [0, qb]);
        }),
      };
      for (const step of [1, 2]) {
        const fresh = caseInputs(shape, 30 + step);
        q.data.set(fresh.q.data);
        k.data.set(fresh.k.data);
        v.data.set(fresh.v.data);
        out.data.fill(Number.NaN);
        const input = { q, k, v };
        const want = referenceAttention(fresh, { mask });
        const got = await backend.attend(input, { mask, out });
        if (got.output !== out) fail(name, `call ${step}: result.output is not options.out`);
        expectClose(`${name} (call ${step}, into out)`, got, want, tol);
        expectClose(`${name} (call ${step}, new output)`, await backend.attend(input, { mask }), want, tol);
        expectClose(`${name} (call ${step}, decode)`, await backend.decode(input), referenceDecode(fresh), tol);
      }
      for (const o of owned) o.release();
      // The backend goes on working after the release, and plain tensors are unaffected.
      const plain = caseInputs(shape, 33);
      expectClose(`${name} (after release)`, await backend.attend(plain, { mask }), referenceAttention(plain, { mask }), tol);
    },
  };
}

/**
 * A call every backend must refuse as the reference does (core's resolveAttendCall / resolveDecodeCall): the same
 * error code and the same message, so a user's mistake reads the same whichever backend runs.
 */
function rejectionCase(
  op: 'attend' | 'decode',
  name: string,
  shape: CaseShape,
  options: (s: ReturnType<typeof maskShapeOf>, input: ReturnType<typeof caseInputs>) => object,
): BackendCase {
  return {
    name: `${op}: rejects ${name}`,
    op,
    async run(backend) {
      const input = caseInputs(shape, 5);
      const opts = options(maskShapeOf(shape), input);
      const want = (await thrown(() =>
        op === 'attend' ? referenceAttention(input, opts as ReferenceOptions) : referenceDecode(input, opts as ReferenceDecodeOptions),
      )) as { code?: unknown; message?: unknown } | undefined;
      if (!want) fail(this.name, 'the reference accepts this call: the case is wrong');
      const got = (await thrown(() => (op === 'attend' ? backend.attend(input, opts) : backend.decode(input, opts)))) as
        | { code?: unknown; message?: unknown }
        | undefined;
      if (!got) fail(this.name, `the call was accepted; expected ${String(want.code)}: ${String(want.message)}`);
      if (got.code !== want.code || got.message !== want.message) {
        fail(this.name, `threw ${String(got.code)}: ${String(got.message)}; expected ${String(want.code)}: ${String(want.message)}`);
      }
    },
  };
}

/** Bad attend options: every backend validates them with core's resolveAttendCall. */
function attendRejections(): BackendCase[] {
  const shape: CaseShape = { qHeads: 2, kvHeads: 1, qLength: 20, kvLength: 20, dim: 8 };
  return [
    rejectionCase('attend', 'a scoreMod that is not a function', shape, () => ({ scoreMod: 'alibi' })),
    rejectionCase('attend', 'a non-boolean causal', shape, () => ({ causal: 1 })),
    rejectionCase('attend', 'a scale that is not a positive finite number', shape, () => ({ scale: 0 })),
    rejectionCase('attend', 'a mask built for another query length', shape, (s) => ({
      mask: { blocks: createBlockMask(causal, { ...s, qLength: s.qLength + 1, kvLength: s.kvLength + 1 }, { blockQ: 8, blockK: 8 }) },
    })),
    rejectionCase('attend', 'a mask with more heads than the call', shape, (s) => ({
      mask: { columns: ColumnMask.build({ ...s, heads: 3 }, 8, { heads: 3 }, (_h, _qb, out) => out.push(0)) },
    })),
    rejectionCase('attend', 'a mask that is no mask form', shape, (s) => ({ mask: new Uint8Array(s.qLength * s.kvLength) })),
    rejectionCase('attend', 'a causal call whose query rows pass the last key', { ...shape, qOffset: 5 }, () => ({})),
    rejectionCase('attend', 'an out tensor of another shape', shape, (s) => ({
      out: createHeadTensor(s.heads, s.qLength + 1, 8),
    })),
    rejectionCase('attend', 'an out tensor that is the query tensor', shape, (_s, input) => ({ out: input.q })),
    // The finiteness rule: a scoreMod may return -Infinity (drop the pair), never NaN or +Infinity.
    rejectionCase('attend', 'a scoreMod that returns NaN', shape, () => ({
      scoreMod: (x: number, _h: number, q: number, k: number) => (q === 7 && k === 3 ? Number.NaN : x),
    })),
    rejectionCase('attend', 'a scoreMod that returns +Infinity', shape, () => ({
      scoreMod: (x: number, _h: number, _q: number, k: number) => (k === 2 ? Infinity : x),
    })),
  ];
}

/** Decode cases: full cache, selections per kv head, GQA, several new queries, low-precision slots. */
export function decodeCases(): BackendCase[] {
  const make = (
    name: string,
    shape: CaseShape,
    select?: (kvHeads: number, kvLength: number) => TokenSelection,
    extra: { causal?: boolean } = {},
  ): BackendCase => ({
    name: `decode: ${name}`,
    op: 'decode',
    async run(backend, tol) {
      const input = caseInputs(shape, 11);
      const selection = select?.(shape.kvHeads, shape.kvLength);
      const options = { selection, causal: extra.causal ?? true };
      const want = referenceDecode(input, options);
      const got = await backend.decode(input, options);
      expectClose(this.name, got, want, tol);
    },
  });
  const every = (step: number, offset: (g: number) => number) => (kvHeads: number, kvLength: number) =>
    TokenSelection.fromLists(
      Array.from({ length: kvHeads }, (_, g) =>
        Array.from({ length: kvLength }, (_, s) => s).filter((s) => (s + offset(g)) % step === 0 || s === kvLength - 1),
      ),
      kvLength,
    );
  return [
    make('full cache, 1 token, kv 257, GQA 4:1', { qHeads: 4, kvHeads: 1, qLength: 1, kvLength: 257, dim: 64 }),
    make(
      'selection per kv head, GQA 2:1',
      { qHeads: 4, kvHeads: 2, qLength: 1, kvLength: 300, dim: 64 },
      every(5, (g) => g),
    ),
    make(
      '3 new queries over a selection (speculative decoding shape)',
      { qHeads: 2, kvHeads: 1, qLength: 3, kvLength: 90, dim: 8 },
      every(4, () => 1),
    ),
    make('empty selection for one kv head', { qHeads: 2, kvHeads: 2, qLength: 1, kvLength: 40, dim: 8 }, (kvHeads, kvLength) =>
      TokenSelection.fromLists([[0, 7, 39], []].slice(0, kvHeads), kvLength),
    ),
    make(
      'low-precision slots (int8 / int4 / fp16 fake-quantised)',
      { qHeads: 2, kvHeads: 1, qLength: 1, kvLength: 64, dim: 64 },
      (_kvHeads, kvLength) => {
        const slots = Int32Array.from({ length: kvLength }, (_, s) => s);
        const precision = Uint8Array.from({ length: kvLength }, (_, s) => (s > 48 ? 32 : s % 3 === 0 ? 8 : s % 3 === 1 ? 4 : 16));
        return new TokenSelection({ kvHeads: 1, kvLength, rowPtr: Int32Array.of(0, kvLength), slots, precision });
      },
    ),
    ...decodeRejections(),
  ];
}

/** Bad decode options: every backend validates them with core's resolveDecodeCall. */
function decodeRejections(): BackendCase[] {
  const shape: CaseShape = { qHeads: 4, kvHeads: 2, qLength: 1, kvLength: 30, dim: 8 };
  return [
    rejectionCase('decode', 'a selection made for other kv heads', shape, (s) => ({
      selection: TokenSelection.fromLists([[0, 1, 29]], s.kvLength),
    })),
    rejectionCase('decode', 'a selection made for a longer cache', shape, (s) => ({
      selection: TokenSelection.fromLists([[0], [1]], s.kvLength + 5),
    })),
    rejectionCase('decode', 'a selection that is not a TokenSelection', shape, () => ({
      selection: { kvHeads: 2, kvLength: 30, slotsOf: () => Int32Array.of(0) },
    })),
    rejectionCase('decode', 'a scoreMod that is not a function', shape, () => ({ scoreMod: 3 })),
    rejectionCase('decode', 'a non-boolean causal', shape, () => ({ causal: 'yes' })),
  ];
}

/** One pooledScores case: the backend's block scores against the reference's, block counts first. */
function pooledScoresCase(label: string, shape: CaseShape, seed: number, options: PooledScoresOptions): BackendCase {
  return {
    name: `pooledScores: ${label}`,
    op: 'pooledScores',
    async run(backend, tol) {
      const input = caseInputs(shape, seed);
      const want = referencePooledScores(input, options);
      const got = await backend.pooledScores(input, options);
      if (got.qBlocks !== want.qBlocks || got.kBlocks !== want.kBlocks)
        fail(this.name, `got ${got.qBlocks}×${got.kBlocks} blocks, expected ${want.qBlocks}×${want.kBlocks}`);
      const m = firstMismatch(got.data, want.data, tol.atol, tol.rtol, 'scores');
      if (m) fail(this.name, m);
    },
  };
}

/** Estimator-op cases: pooled scores, last-queries softmax, quantised scores. */
export function estimatorOpCases(): BackendCase[] {
  const shapes: CaseShape[] = [
    { qHeads: 4, kvHeads: 2, qLength: 100, kvLength: 100, dim: 64 },
    { qHeads: 2, kvHeads: 1, qLength: 37, kvLength: 81, dim: 8 },
  ];
  const cases: BackendCase[] = [];
  for (const shape of shapes) {
    const tag = `Hq ${shape.qHeads}/Hkv ${shape.kvHeads}, q ${shape.qLength} × kv ${shape.kvLength}, d ${shape.dim}`;
    for (const [qPool, kPool] of [
      ['mean', 'mean'],
      ['max', 'min'],
      ['min', 'max'],
    ] as const) {
      cases.push(
        pooledScoresCase(`${qPool}/${kPool}, blocks 16×32, ${tag}`, shape, 5, { blockQ: 16, blockK: 32, qPool, kPool, scale: 0.125 }),
      );
    }
    // Blocks of one row or one key pool to the rows themselves: the plain products estimators stream (a fast path).
    for (const [blockQ, blockK, causal] of [
      [1, 1, false],
      [1, 1, true],
      [1, 32, true],
      [16, 1, false],
    ] as const) {
      const options = { blockQ, blockK, qPool: 'max', kPool: 'mean', scale: 0.5, causal } as const;
      cases.push(pooledScoresCase(`max/mean, blocks ${blockQ}×${blockK}${causal ? ', causal' : ''}, ${tag}`, shape, 7, options));
    }
    for (const count of [1, 16, 1000]) {
      cases.push({
        name: `lastQueriesAttention: last ${count}, ${tag}`,
        op: 'lastQueriesAttention',
        async run(backend, tol) {
          const input = caseInputs(shape, 6);
          const want = referenceLastQueriesAttention(input, { count });
          const got = await backend.lastQueriesAttention(input, { count });
          if (got.rowStart !== want.rowStart || got.rows !== want.rows)
            fail(this.name, `rows ${got.rowStart}+${got.rows}, expected ${want.rowStart}+${want.rows}`);
          const m = firstMismatch(got.data, want.data, tol.probAtol, 0, 'probabilities');
          if (m) fail(this.name, m);
        },
      });
    }
    for (const [count, causal] of [
      [1, true],
      [16, true],
      [16, false],
      [70, false],
      [1000, true],
    ] as const) {
      cases.push({
        name: `lastQueriesSums: last ${count}${causal ? '' : ', not causal'}, ${tag}`,
        op: 'lastQueriesSums',
        async run(backend, tol) {
          const input = caseInputs(shape, 6);
          const want = referenceLastQueriesSums(input, { count, causal });
          const got = await backend.lastQueriesSums(input, { count, causal });
          for (const key of ['kind', 'heads', 'rowStart', 'rows', 'kvLength', 'slashOrigin', 'slashLength'] as const) {
            if (got[key] !== want[key]) fail(this.name, `${key} ${got[key]}, expected ${want[key]}`);
          }
          // Each sum adds at most `rows` probabilities, each within the probability tolerance.
          const atol = tol.probAtol * want.rows;
          const m =
            firstMismatch(got.vertical, want.vertical, atol, 0, 'vertical') ?? firstMismatch(got.slash, want.slash, atol, 0, 'slash');
          if (m) fail(this.name, m);
        },
      });
    }
    for (const bits of [8, 4] as const) {
      cases.push({
        name: `quantizedScores: int${bits} rows, ${tag}`,
        op: 'quantizedScores',
        async run(backend, tol) {
          const input = caseInputs(shape, 8);
          const options = { bits, rows: { start: 3, count: Math.min(20, shape.qLength - 3) } };
          compareQuantized(
            this.name,
            (await backend.quantizedScores(input, options)) as ScoreRows,
            referenceQuantizedScores(input, options) as ScoreRows,
            tol,
          );
        },
      });
      cases.push({
        name: `quantizedScores: int${bits} block-max pooled 16×16, no smoothing, ${tag}`,
        op: 'quantizedScores',
        async run(backend, tol) {
          const input = caseInputs(shape, 9);
          const options = { bits, smoothK: false, pool: { blockQ: 16, blockK: 16 } };
          compareQuantized(
            this.name,
            (await backend.quantizedScores(input, options)) as BlockScores,
            referenceQuantizedScores(input, options) as BlockScores,
            tol,
          );
        },
      });
      cases.push({
        name: `quantizedScores: int${bits} per-row bias, groups of 16 rows / 8 keys, rows and pooled 16×32, ${tag}`,
        op: 'quantizedScores',
        async run(backend, tol) {
          const input = caseInputs(shape, 10);
          const bias = (rows: number) => Float32Array.from({ length: shape.qHeads * rows }, (_, i) => ((i * 7) % 11) / 5 - 1);
          const rowsOptions = { bits, rows: { start: 2, count: Math.min(9, shape.qLength - 2) }, groups: { q: 16, k: 8 } };
          const rowsCall = { ...rowsOptions, rowBias: bias(rowsOptions.rows.count) };
          compareQuantized(
            this.name,
            (await backend.quantizedScores(input, rowsCall)) as ScoreRows,
            referenceQuantizedScores(input, rowsCall) as ScoreRows,
            tol,
          );
          const poolCall = { bits, pool: { blockQ: 16, blockK: 32 }, groups: { q: 16, k: 8 }, rowBias: bias(shape.qLength) };
          compareQuantized(
            this.name,
            (await backend.quantizedScores(input, poolCall)) as BlockScores,
            referenceQuantizedScores(input, poolCall) as BlockScores,
            tol,
          );
        },
      });
    }
  }
  return cases;
}

function compareQuantized(name: string, got: ScoreRows | BlockScores, want: ScoreRows | BlockScores, tol: Tolerance): void {
  if (got.kind !== want.kind) fail(name, `got ${got.kind}, expected ${want.kind}`);
  if (got.data.length !== want.data.length) fail(name, `got ${got.data.length} scores, expected ${want.data.length}`);
  let scale = 0;
  for (const x of want.data) if (Number.isFinite(x)) scale = Math.max(scale, Math.abs(x));
  let outliers = 0;
  for (let i = 0; i < want.data.length; i++) {
    const a = got.data[i] as number;
    const e = want.data[i] as number;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (a !== e) fail(name, `score[${i}] = ${a}, expected ${e}`);
      continue;
    }
    if (Math.abs(a - e) > tol.quantizedRel * scale + 1e-6) outliers++;
  }
  if (outliers > tol.quantizedOutliers * want.data.length) {
    fail(name, `${outliers} of ${want.data.length} quantised scores differ by more than ${tol.quantizedRel} of the largest score`);
  }
}

/** Every case of the kit. */
export function allBackendCases(): BackendCase[] {
  return [
    ...attendCases(),
    ...decodeCases(),
    ...packedDecodeCases(),
    ...estimatorOpCases(),
    ...scoresCases(),
    ...linearCases(),
    ...kvStoreCases(),
  ];
}
