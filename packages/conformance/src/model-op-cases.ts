import { type AttendResult, type DecodeOptions, type HeadTensor, referenceDecode, slicePositions, TokenSelection } from '@sparseland/core';
import { createRng, referenceLinear } from '@sparseland/core/kit';
import type { BackendCase } from './backend-cases.js';
import { type CaseShape, caseInputs } from './inputs.js';
import { firstMismatch } from './tolerance.js';

// The ops a model runtime needs besides attention: linear layers on prepared weights, and decoding against a KV
// store that grows one token at a time (and is rewritten per head after a KV policy evicts).

function fail(caseName: string, message: string): never {
  throw new Error(`${caseName}: ${message}`);
}

function seeded(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.normal());
}

/** The float64 product and, per output, Σ_j |x_j·w_j|: the scale a float32 sum's rounding error is relative to. */
function linearReference(x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number) {
  const want = new Float32Array(rows * outDim);
  referenceLinear(want, x, w, rows, inDim, outDim);
  const bound = new Float64Array(rows * outDim);
  for (let t = 0; t < rows; t++) {
    for (let o = 0; o < outDim; o++) {
      let s = 0;
      for (let j = 0; j < inDim; j++) s += Math.abs((x[t * inDim + j] as number) * (w[o * inDim + j] as number));
      bound[t * outDim + o] = s;
    }
  }
  return { want, bound };
}

function linearCase(label: string, rows: number, inDim: number, outDim: number): BackendCase {
  return {
    name: `linear: ${label} (rows ${rows}, in ${inDim}, out ${outDim})`,
    op: 'linear',
    async run(backend, tol) {
      const w = seeded(outDim * inDim, rows + 7 * inDim + 13 * outDim);
      const x = seeded(rows * inDim, inDim + outDim);
      const { want, bound } = linearReference(x, w, rows, inDim, outDim);
      const linear = await backend.prepareLinear(w, { outDim, inDim });
      try {
        if (linear.outDim !== outDim || linear.inDim !== inDim)
          fail(this.name, `shape ${linear.outDim}×${linear.inDim}, expected ${outDim}×${inDim}`);
        const got = await linear.run(x, rows);
        if (got.length !== rows * outDim) fail(this.name, `result has ${got.length} floats, expected ${rows * outDim}`);
        for (let i = 0; i < want.length; i++) {
          const err = Math.abs((got[i] as number) - (want[i] as number));
          if (!(err <= tol.linearRel * (bound[i] as number) + 1e-30)) {
            fail(
              this.name,
              `y[${i}] = ${got[i]}, expected ${want[i]} (|diff| ${err.toExponential(2)} > ${tol.linearRel}·Σ|x·w| = ${(tol.linearRel * (bound[i] as number)).toExponential(2)})`,
            );
          }
        }
        // Into a caller's array: the same values, nothing written past rows·outDim; a second run gives the same.
        const out = new Float32Array(rows * outDim + 3).fill(7);
        const again = await linear.run(x, rows, out);
        if (again !== out) fail(this.name, 'run(x, rows, out) must return out');
        const diff = firstMismatch(out.subarray(0, rows * outDim), got, 0, 0, 'run into out');
        if (diff) fail(this.name, diff);
        if (out[rows * outDim] !== 7 || out[rows * outDim + 2] !== 7) fail(this.name, 'run(x, rows, out) wrote past rows·outDim');
      } finally {
        linear.dispose();
      }
    },
  };
}

/** Linear layers: decode's one row, rows and outputs that are not multiples of any blocking, several row blocks. */
export function linearCases(): BackendCase[] {
  return [
    linearCase('1×1', 1, 1, 1),
    linearCase('one row (decode), model-sized', 1, 64, 256),
    linearCase('odd sizes', 3, 7, 13),
    linearCase('exact blocks', 4, 8, 8),
    linearCase('rows and outputs past the blocking', 5, 33, 17),
    linearCase('several row blocks, odd outputs', 130, 24, 9),
    linearCase('model-shaped chunk', 70, 96, 40),
    {
      name: 'linear: 0 rows, and a weight matrix shared by two runs with different rows',
      op: 'linear',
      async run(backend, tol) {
        const w = seeded(6 * 5, 3);
        const linear = await backend.prepareLinear(w, { outDim: 6, inDim: 5 });
        try {
          const empty = await linear.run(new Float32Array(0), 0);
          if (empty.length !== 0) fail(this.name, `0 rows gave ${empty.length} floats`);
          const x = seeded(9 * 5, 4);
          const all = await linear.run(x, 9);
          const last = await linear.run(x.subarray(8 * 5), 1);
          const { want, bound } = linearReference(x.subarray(8 * 5), w, 1, 5, 6);
          for (let o = 0; o < 6; o++) {
            if (Math.abs((last[o] as number) - (want[o] as number)) > tol.linearRel * (bound[o] as number) + 1e-30) {
              fail(this.name, `one row: y[${o}] = ${last[o]}, expected ${want[o]}`);
            }
          }
          if (all.length !== 54) fail(this.name, `9 rows gave ${all.length} floats`);
        } finally {
          linear.dispose();
        }
      },
    },
  ];
}

function expectClose(caseName: string, got: AttendResult, want: AttendResult, tol: { atol: number; rtol: number; lseAtol: number }): void {
  const out = firstMismatch(got.output.data, want.output.data, tol.atol, tol.rtol, 'output');
  if (out) fail(caseName, out);
  const lse = firstMismatch(got.lse, want.lse, tol.lseAtol, 0, 'lse');
  if (lse) fail(caseName, lse);
}

/** Each head's rows (from slot 0) in a [kvHeads, width, dim] tensor, zero-padded. */
function padded(rows: readonly Float32Array[], width: number, dim: number): HeadTensor {
  const data = new Float32Array(rows.length * width * dim);
  for (const [g, r] of rows.entries()) data.set(r, g * width * dim);
  return { data, heads: rows.length, length: width, dim };
}

/** Rows [a, b) of kv head g of t. */
function headRows(t: HeadTensor, g: number, a: number, b: number): Float32Array {
  return t.data.slice((g * t.length + a) * t.dim, (g * t.length + b) * t.dim);
}

interface StoreSpec {
  readonly name: string;
  readonly shape: CaseShape;
  /** Append chunk sizes (summing to kvLength); the store is decoded after each chunk of size 1. */
  readonly chunks: readonly number[];
  readonly options?: (kvHeads: number, kvLength: number) => DecodeOptions & { qOffset?: number };
}

function storeCase(spec: StoreSpec): BackendCase {
  return {
    name: `kvStore: ${spec.name}`,
    op: 'kvStore',
    async run(backend, tol) {
      const { shape } = spec;
      const input = caseInputs(shape, 17);
      const store = await backend.createKvStore({ kvHeads: shape.kvHeads, dim: shape.dim });
      try {
        let at = 0;
        for (const count of spec.chunks) {
          await store.append(slicePositions(input.k, at, at + count), slicePositions(input.v, at, at + count));
          at += count;
          for (let g = 0; g < shape.kvHeads; g++)
            if (store.length(g) !== at) fail(this.name, `kv head ${g} holds ${store.length(g)} slots after appending ${at}`);
          if (count !== 1 && at !== shape.kvLength) continue;
          const k = slicePositions(input.k, 0, at);
          const v = slicePositions(input.v, 0, at);
          const q = at === shape.kvLength ? input.q : slicePositions(input.q, 0, Math.min(shape.qLength, at));
          const options = at === shape.kvLength ? (spec.options?.(shape.kvHeads, at) ?? {}) : {};
          const want = referenceDecode({ q, k, v, ...(options.qOffset === undefined ? {} : { qOffset: options.qOffset }) }, options);
          const got = await store.decode(q, options);
          expectClose(`${this.name} (after ${at} slots)`, got, want, tol);
        }
      } finally {
        store.dispose();
      }
    },
  };
}

/** KV stores: token-by-token growth across 64-slot chunks, odd chunks, selections, low precision, ragged heads. */
export function kvStoreCases(): BackendCase[] {
  const every = (step: number) => (kvHeads: number, kvLength: number) => ({
    selection: TokenSelection.fromLists(
      Array.from({ length: kvHeads }, (_, g) =>
        Array.from({ length: kvLength }, (_, s) => s).filter((s) => (s + g) % step === 0 || s === kvLength - 1),
      ),
      kvLength,
    ),
  });
  return [
    storeCase({
      name: 'one token at a time across a 64-slot boundary, GQA 2:1, d=64',
      shape: { qHeads: 4, kvHeads: 2, qLength: 1, kvLength: 67, dim: 64 },
      chunks: [60, 1, 1, 1, 1, 1, 1, 1],
    }),
    storeCase({
      name: 'odd chunks, d=12 (padded channels), 3 queries at an explicit qOffset, custom scale',
      shape: { qHeads: 2, kvHeads: 2, qLength: 3, kvLength: 131, dim: 12 },
      chunks: [1, 37, 64, 29],
      options: () => ({ qOffset: 100, scale: 0.2 }),
    }),
    storeCase({
      name: 'non-causal, GQA 4:1, d=8',
      shape: { qHeads: 4, kvHeads: 1, qLength: 2, kvLength: 90, dim: 8 },
      chunks: [90],
      options: () => ({ causal: false, qOffset: 10 }),
    }),
    storeCase({
      name: 'a selection per kv head, read in place, GQA 2:1, kv 300',
      shape: { qHeads: 4, kvHeads: 2, qLength: 1, kvLength: 300, dim: 64 },
      chunks: [100, 100, 99, 1],
      options: every(5),
    }),
    storeCase({
      name: 'an empty selection for one kv head',
      shape: { qHeads: 2, kvHeads: 2, qLength: 1, kvLength: 40, dim: 8 },
      chunks: [40],
      options: (_kvHeads, kvLength) => ({ selection: TokenSelection.fromLists([[0, 7, 39], []], kvLength) }),
    }),
    storeCase({
      name: 'low-precision slots (int8 / int4 / fp16)',
      shape: { qHeads: 2, kvHeads: 1, qLength: 1, kvLength: 64, dim: 64 },
      chunks: [64],
      options: (_kvHeads, kvLength) => {
        const slots = Int32Array.from({ length: kvLength }, (_, s) => s);
        const precision = Uint8Array.from({ length: kvLength }, (_, s) => (s > 48 ? 32 : s % 3 === 0 ? 8 : s % 3 === 1 ? 4 : 16));
        return { selection: new TokenSelection({ kvHeads: 1, kvLength, rowPtr: Int32Array.of(0, kvLength), slots, precision }) };
      },
    }),
    storeCase({
      name: 'scoreMod (ALiBi-style bias on slot positions)',
      shape: { qHeads: 2, kvHeads: 1, qLength: 1, kvLength: 50, dim: 8 },
      chunks: [50],
      options: () => ({ scoreMod: (s: number, h: number, q: number, k: number) => s - 0.1 * (h + 1) * (q - k) }),
    }),
    {
      name: 'kvStore: ragged heads after setHead (an evicting KV policy), then growth, with and without a selection',
      op: 'kvStore',
      async run(backend, tol) {
        const shape = { qHeads: 4, kvHeads: 2, qLength: 1, kvLength: 150, dim: 64 };
        const { q, k, v } = caseInputs(shape, 23);
        const store = await backend.createKvStore({ kvHeads: 2, dim: 64 });
        try {
          await store.append(slicePositions(k, 0, 140), slicePositions(v, 0, 140));
          // kv head 1 keeps 70 slots: the first 10 and the last 60 (a sink + window policy).
          const kept = (t: HeadTensor) => {
            const out = new Float32Array(70 * 64);
            out.set(headRows(t, 1, 0, 10));
            out.set(headRows(t, 1, 80, 140), 10 * 64);
            return out;
          };
          await store.setHead(1, kept(k), kept(v));
          await store.append(slicePositions(k, 140, 150), slicePositions(v, 140, 150));
          if (store.length(0) !== 150 || store.length(1) !== 80)
            fail(this.name, `lengths ${store.length(0)} and ${store.length(1)}, expected 150 and 80`);
          const head1 = (t: HeadTensor) => {
            const out = new Float32Array(80 * 64);
            out.set(kept(t));
            out.set(headRows(t, 1, 140, 150), 70 * 64);
            return out;
          };
          const kr = padded([headRows(k, 0, 0, 150), head1(k)], 150, 64);
          const vr = padded([headRows(v, 0, 0, 150), head1(v)], 150, 64);
          const own = TokenSelection.fromLists([Array.from({ length: 150 }, (_, i) => i), Array.from({ length: 80 }, (_, i) => i)], 150);
          expectClose(`${this.name} (every slot)`, await store.decode(q), referenceDecode({ q, k: kr, v: vr }, { selection: own }), tol);
          const some = TokenSelection.fromLists(
            [
              [0, 5, 149],
              [0, 9, 10, 79],
            ],
            150,
          );
          expectClose(
            `${this.name} (a selection)`,
            await store.decode(q, { selection: some }),
            referenceDecode({ q, k: kr, v: vr }, { selection: some }),
            tol,
          );
        } finally {
          store.dispose();
        }
      },
    },
  ];
}
