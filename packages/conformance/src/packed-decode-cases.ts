import {
  type AttendResult,
  type Backend,
  type PackedBits,
  type PackedDecodeInput,
  type PackedDecodeOptions,
  type PackedKvCache,
  type PackedKvHead,
  packKvBlock,
  randomHeadTensor,
  referenceDecodePacked,
} from '@sparseland/core';
import { thrown } from './case.js';
import { firstMismatch, type Tolerance } from './tolerance.js';

type Rejection = { code?: unknown; message?: unknown };

/** One packed-decode case; `op` is 'decodePacked' so filters can exclude the op as a whole. */
export interface PackedDecodeCase {
  readonly name: string;
  readonly op: 'decodePacked';
  run(backend: Backend, tolerance: Tolerance): Promise<void>;
}

/** One kv head of a case: packed blocks (token count, bits, key group, value group) then full-precision rows. */
export interface PackedHeadSpec {
  readonly blocks: readonly {
    readonly length: number;
    readonly bits: PackedBits;
    readonly keyGroup?: number;
    readonly valueGroup?: number;
  }[];
  readonly fullRows: number;
}

/**
 * A seeded packed cache: each head's blocks are quantised from random keys and values (keys with a few outlier
 * channels, as real keys have, so per-channel scales matter), then the head's full-precision rows.
 */
export function packedCacheInput(dim: number, heads: readonly PackedHeadSpec[], seed: number): PackedKvCache {
  return {
    kvHeads: heads.length,
    dim,
    heads: heads.map((spec, g): PackedKvHead => {
      const total = spec.blocks.reduce((n, b) => n + b.length, 0) + spec.fullRows;
      const k = randomHeadTensor({ heads: 1, length: total, dim, seed: seed + 31 * g, scale: 1 }).data;
      const v = randomHeadTensor({ heads: 1, length: total, dim, seed: seed + 31 * g + 7 }).data;
      for (let t = 0; t < total; t++) for (let c = 0; c < dim; c += 5) k[t * dim + c] = (k[t * dim + c] as number) * 4;
      let at = 0;
      const blocks = spec.blocks.map((b) => {
        const block = packKvBlock(k.subarray(at * dim), v.subarray(at * dim), b.length, dim, {
          bits: b.bits,
          ...(b.keyGroup === undefined ? {} : { keyGroup: b.keyGroup }),
          ...(b.valueGroup === undefined ? {} : { valueGroup: b.valueGroup }),
        });
        at += b.length;
        return block;
      });
      return { blocks, keys: k.slice(at * dim), values: v.slice(at * dim) };
    }),
  };
}

function expectClose(name: string, got: AttendResult, want: AttendResult, tol: Tolerance): void {
  const out = firstMismatch(got.output.data, want.output.data, tol.atol, tol.rtol, 'output');
  if (out) throw new Error(`${name}: ${out}`);
  const lse = firstMismatch(got.lse, want.lse, tol.lseAtol, 0, 'lse');
  if (lse) throw new Error(`${name}: ${lse}`);
}

/**
 * Backend.decodePacked against `referenceDecodePacked` (attention over the dequantised values): int2, int4 and int8
 * blocks, KIVI's 32-token key groups and odd ones, blocks longer than a 64-token tile, ragged heads, a head with no
 * full-precision rows, odd head dims (codes not byte-aligned), GQA, several causal queries and a non-causal call.
 */
export function packedDecodeCases(): PackedDecodeCase[] {
  const make = (
    name: string,
    shape: { qHeads: number; qLength: number; dim: number },
    heads: readonly PackedHeadSpec[],
    options: PackedDecodeOptions = {},
  ): PackedDecodeCase => ({
    name: `decodePacked: ${name}`,
    op: 'decodePacked',
    async run(backend, tol) {
      const cache = packedCacheInput(shape.dim, heads, 17);
      const q = randomHeadTensor({ heads: shape.qHeads, length: shape.qLength, dim: shape.dim, seed: 5, scale: Math.sqrt(2.5) });
      const want = referenceDecodePacked({ q, cache }, options);
      const got = await backend.decodePacked({ q, cache }, options);
      expectClose(this.name, got, want, tol);
    },
  });
  const kivi = kiviHead;
  return [
    make('KIVI int4, 256 packed + 32 full-precision, GQA 2:1, dim 64', { qHeads: 4, qLength: 1, dim: 64 }, [
      kivi(4, 256, 32),
      kivi(4, 256, 32),
    ]),
    make('KIVI int2, 130 packed + 3 full-precision, dim 64', { qHeads: 2, qLength: 1, dim: 64 }, [kivi(2, 130, 3)]),
    make('int8 block, dim 8', { qHeads: 2, qLength: 1, dim: 8 }, [kivi(8, 70, 5)]),
    make(
      'ragged heads: tiered int4 + int2 blocks, odd key groups, no full-precision rows in one head',
      { qHeads: 4, qLength: 1, dim: 16 },
      [
        {
          blocks: [
            { length: 40, bits: 4, keyGroup: 7 },
            { length: 75, bits: 2, keyGroup: 32, valueGroup: 5 },
          ],
          fullRows: 9,
        },
        { blocks: [{ length: 12, bits: 4, keyGroup: 32 }], fullRows: 0 },
      ],
    ),
    make('odd head dim 13 (int4 and int2 codes cross byte boundaries)', { qHeads: 1, qLength: 1, dim: 13 }, [
      {
        blocks: [
          { length: 33, bits: 2 },
          { length: 20, bits: 4, valueGroup: 6 },
        ],
        fullRows: 4,
      },
    ]),
    make('3 causal queries, the last slots of each head', { qHeads: 2, qLength: 3, dim: 8 }, [kivi(4, 64, 6), kivi(4, 96, 3)]),
    make('non-causal, 2 queries', { qHeads: 2, qLength: 2, dim: 8 }, [kivi(2, 50, 0)], { causal: false }),
    make('only full-precision rows', { qHeads: 2, qLength: 1, dim: 8 }, [{ blocks: [], fullRows: 30 }]),
    ...packedRejections(),
  ];
}

/**
 * Calls every backend must refuse as the reference does (core's resolvePackedDecodeCall): the same error code and
 * the same message, as the attend and decode rejection cases ask.
 */
function packedRejections(): PackedDecodeCase[] {
  const reject = (name: string, call: () => { input: PackedDecodeInput; options?: unknown }): PackedDecodeCase => ({
    name: `decodePacked: rejects ${name}`,
    op: 'decodePacked',
    async run(backend) {
      const { input, options } = call();
      const want = (await thrown(() => referenceDecodePacked(input, options as PackedDecodeOptions))) as Rejection | undefined;
      if (!want) throw new Error(`${this.name}: the reference accepts this call: the case is wrong`);
      const got = (await thrown(() => backend.decodePacked(input, options as PackedDecodeOptions))) as Rejection | undefined;
      if (!got) throw new Error(`${this.name}: the call was accepted; expected ${String(want.code)}: ${String(want.message)}`);
      if (got.code !== want.code || got.message !== want.message) {
        throw new Error(
          `${this.name}: threw ${String(got.code)}: ${String(got.message)}; expected ${String(want.code)}: ${String(want.message)}`,
        );
      }
    },
  });
  const cache = (): PackedKvCache => packedCacheInput(8, [kiviHead(4, 40, 3), kiviHead(4, 40, 3)], 3);
  const q = (heads: number, length: number, dim = 8) => randomHeadTensor({ heads, length, dim, seed: 9 });
  return [
    reject('a non-boolean causal', () => ({ input: { q: q(2, 1), cache: cache() }, options: { causal: 'yes' } })),
    reject('a scale that is not a positive finite number', () => ({ input: { q: q(2, 1), cache: cache() }, options: { scale: -1 } })),
    reject('options that are not an object', () => ({ input: { q: q(2, 1), cache: cache() }, options: 7 })),
    reject('queries whose dim differs from the cache', () => ({ input: { q: q(2, 1, 16), cache: cache() } })),
    reject('query heads that are not a multiple of the kv heads', () => ({ input: { q: q(3, 1), cache: cache() } })),
    reject('a causal call with more queries than a head holds', () => ({ input: { q: q(2, 44), cache: cache() } })),
    reject('a cache that is not a packed cache', () => ({
      input: { q: q(2, 1), cache: { kvHeads: 1, dim: 8, heads: [{ keys: new Float32Array(8) }] } as unknown as PackedKvCache },
    })),
  ];
}

function kiviHead(bits: PackedBits, packed: number, residual: number): PackedHeadSpec {
  return { blocks: [{ length: packed, bits }], fullRows: residual };
}
