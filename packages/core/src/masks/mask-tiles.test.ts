import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.js';
import type { MaskShape } from '../tensor/shape.js';
import { applyCausalToDense } from './block-mask.js';
import { buildBlockMask } from './build-block-mask.js';
import { ColumnMask } from './column-mask.js';
import { type MaskTileOptions, type MaskTileSink, MaskTiles } from './mask-tiles.js';
import { type SparseMask, sparseMaskToDense } from './sparse-mask.js';

interface Geometry {
  readonly heads: number;
  readonly qLength: number;
  readonly extraKv: number;
  /** qOffset below kvLength − qLength (queries in the middle of the cache) when > 0. */
  readonly offsetBack: number;
  readonly blockQ: number;
  readonly blockK: number;
  readonly columnBlockQ: number;
  readonly blockHeads: 'one' | 'all';
  readonly columnHeads: 'one' | 'all';
  readonly form: 'dense' | 'empty' | 'blocks' | 'columns' | 'both';
  readonly partial: boolean;
  readonly seed: number;
}

function shapeOf(g: Geometry): MaskShape {
  const kvLength = g.qLength + g.extraKv;
  return { heads: g.heads, qLength: g.qLength, kvLength, qOffset: Math.max(0, g.extraKv - g.offsetBack) };
}

/** A random SparseMask: full and partial blocks (striped MaskMod that depends on the head), random columns. */
function randomMask(shape: MaskShape, g: Geometry): SparseMask | undefined {
  if (g.form === 'dense') return undefined;
  if (g.form === 'empty') return {};
  const rng = createRng(g.seed);
  const kBlocks = Math.ceil(shape.kvLength / g.blockK);
  const stripes = (h: number, q: number, k: number) => (q * 3 + k + h) % 4 !== 0;
  const blocks = buildBlockMask(
    shape,
    { blockQ: g.blockQ, blockK: g.blockK },
    { heads: g.blockHeads === 'one' ? 1 : shape.heads, maskMod: stripes },
    (_h, _qb, full, partial) => {
      for (let kb = 0; kb < kBlocks; kb++) {
        const x = rng.next();
        if (x < 0.3) full.push(kb);
        else if (x < 0.5 && g.partial) partial.push(kb);
      }
    },
  );
  const columns = ColumnMask.build(shape, g.columnBlockQ, { heads: g.columnHeads === 'one' ? 1 : shape.heads }, (_h, _qb, out) => {
    for (let k = 0; k < shape.kvLength; k++) if (rng.next() < 0.2) out.push(k);
  });
  return g.form === 'blocks' ? { blocks } : g.form === 'columns' ? { columns } : { blocks, columns };
}

/**
 * Visits every tile of every head and counts, per (h, i, k), how often a pair the kernels would compute is reported
 * (full runs and gathered columns are clipped to causality as the kernels do; bits must already be). Checks the
 * documented guarantees on the way: ranges inside the sequence, pieces inside one key chunk, no future bits,
 * columns ascending and unique.
 */
function visitAll(tiles: MaskTiles, shape: MaskShape, options: MaskTileOptions): Uint8Array {
  const { heads, qLength, kvLength, qOffset } = shape;
  const counts = new Uint8Array(heads * qLength * kvLength);
  let h = 0;
  let r0 = 0;
  let r1 = 0;
  let stage = 0;
  const count = (i: number, k: number): void => {
    const at = (h * qLength + i) * kvLength + k;
    counts[at] = (counts[at] as number) + 1;
  };
  const visible = (i: number, k: number): boolean => !options.causal || k <= qOffset + i;
  // Plain throws in the per-pair loops: expect() there would dominate the run time.
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`head ${h}, rows [${r0}, ${r1}): ${what}`);
  };
  const sink: MaskTileSink = {
    full(k0, k1) {
      check(stage === 0, 'a full run after a partial piece or columns');
      check(0 <= k0 && k0 < k1 && k1 <= kvLength, `full run [${k0}, ${k1}) outside the sequence`);
      check(!options.causal || k1 <= qOffset + r1, `full run [${k0}, ${k1}) past the tile's last query`);
      for (let i = r0; i < r1; i++) for (let k = k0; k < k1; k++) if (visible(i, k)) count(i, k);
    },
    partial(k0, k1, bits) {
      check(stage <= 1, 'a partial piece after columns');
      stage = 1;
      check(
        k1 > k0 && Math.floor(k0 / options.keyChunk) === Math.floor((k1 - 1) / options.keyChunk),
        `piece [${k0}, ${k1}) crosses a key chunk`,
      );
      let any = false;
      for (let i = r0; i < r1; i++) {
        for (let k = k0; k < k1; k++) {
          const c = k - k0;
          if ((((bits[(i - r0) * tiles.wordsPerRow + (c >> 5)] as number) >>> (c & 31)) & 1) === 0) continue;
          check(visible(i, k), `bit set for the future pair (${i}, ${k})`);
          count(i, k);
          any = true;
        }
      }
      check(any, `empty piece [${k0}, ${k1})`);
    },
    columns(keys, n, rowBits) {
      stage = 2;
      const words = Math.ceil(n / 32);
      for (let c = 0; c < n; c++) {
        const k = keys[c] as number;
        check(c === 0 || k > (keys[c - 1] as number), 'columns not ascending and unique');
        for (let i = r0; i < r1; i++) {
          const kept = !rowBits || (((rowBits[(i - r0) * words + (c >> 5)] as number) >>> (c & 31)) & 1) === 1;
          if (kept && visible(i, k)) count(i, k);
        }
      }
    },
  };
  for (h = 0; h < heads; h++) {
    for (let t = 0; t < tiles.count; t++) {
      r0 = tiles.bounds[t] as number;
      r1 = tiles.bounds[t + 1] as number;
      stage = 0;
      tiles.visit(h, t, sink);
    }
  }
  return counts;
}

const geometry = fc.record<Geometry>({
  heads: fc.integer({ min: 1, max: 3 }),
  qLength: fc.integer({ min: 1, max: 70 }),
  extraKv: fc.integer({ min: 0, max: 40 }),
  offsetBack: fc.constantFrom(0, 0, 5, 17),
  blockQ: fc.constantFrom(1, 4, 8, 16, 48),
  blockK: fc.constantFrom(1, 4, 16, 32, 48),
  columnBlockQ: fc.constantFrom(3, 8, 16, 64),
  blockHeads: fc.constantFrom('one', 'all'),
  columnHeads: fc.constantFrom('one', 'all'),
  form: fc.constantFrom('dense', 'empty', 'blocks', 'columns', 'both', 'both'),
  partial: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

const tiling = fc.record({
  causal: fc.boolean(),
  maxRows: fc.constantFrom(1, 3, 8, 16, 64),
  keyChunk: fc.constantFrom(1, 5, 16, 32, 64, 70),
  splitAtColumnRows: fc.boolean(),
  mergeFull: fc.boolean(),
});

describe('MaskTiles', () => {
  it('reports exactly the kept pairs of a random SparseMask, each once (blocks, partial, columns, broadcast, qOffset, causal or not)', () => {
    fc.assert(
      fc.property(geometry, tiling, (g, options) => {
        const shape = shapeOf(g);
        const mask = randomMask(shape, g);
        const tiles = new MaskTiles(shape, mask, options);
        let want: Uint8Array;
        if (mask) want = sparseMaskToDense(mask, shape, { causal: options.causal });
        else {
          want = new Uint8Array(shape.heads * shape.qLength * shape.kvLength).fill(1);
          if (options.causal) applyCausalToDense(want, shape.heads, shape.qLength, shape.kvLength, shape.qOffset);
        }
        expect(Array.from(visitAll(tiles, shape, options))).toEqual(Array.from(want));
      }),
      { numRuns: 300 },
    );
  });

  it('tiles cover the rows in order, end at multiples of maxRows and at block rows (and column rows when asked)', () => {
    fc.assert(
      fc.property(geometry, tiling, (g, options) => {
        const shape = shapeOf(g);
        const mask = randomMask(shape, g);
        const { bounds, count } = new MaskTiles(shape, mask, options);
        expect(bounds[0]).toBe(0);
        expect(bounds[count]).toBe(shape.qLength);
        const sameRow = (a: number, b: number, step: number | undefined) =>
          step === undefined || Math.floor(a / step) === Math.floor(b / step);
        for (let t = 0; t < count; t++) {
          const r0 = bounds[t] as number;
          const last = (bounds[t + 1] as number) - 1;
          expect(last).toBeGreaterThanOrEqual(r0);
          expect(sameRow(r0, last, options.maxRows)).toBe(true);
          expect(sameRow(r0, last, mask?.blocks?.blockQ)).toBe(true);
          if (options.splitAtColumnRows) expect(sameRow(r0, last, mask?.columns?.blockQ)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('heads share tiles only when every part is stored once and no MaskMod runs; then every head gets head 0’s report', () => {
    fc.assert(
      fc.property(geometry, tiling, (g, options) => {
        const shape = shapeOf(g);
        const mask = randomMask(shape, g);
        const tiles = new MaskTiles(shape, mask, options);
        const blocks = mask?.blocks;
        const columns = mask?.columns;
        const shared = (!blocks || (blocks.heads === 1 && blocks.partial.cols.length === 0)) && (!columns || columns.heads === 1);
        expect(tiles.headsShareTiles).toBe(shared);
        if (!shared) return;
        const report = (h: number): string[] => {
          const out: string[] = [];
          const sink: MaskTileSink = {
            full: (k0, k1) => out.push(`full ${k0} ${k1}`),
            partial: (k0, k1) => out.push(`partial ${k0} ${k1}`),
            columns: (keys, n, rowBits) => out.push(`columns ${Array.from(keys.subarray(0, n))} ${rowBits ? Array.from(rowBits) : '-'}`),
          };
          for (let t = 0; t < tiles.count; t++) tiles.visit(h, t, sink);
          return out;
        };
        for (let h = 1; h < shape.heads; h++) expect(report(h)).toEqual(report(0));
      }),
      { numRuns: 100 },
    );
  });

  it('a dense call is one run per tile, clipped to the keys before the tile’s last query when causal', () => {
    const shape: MaskShape = { heads: 1, qLength: 70, kvLength: 100, qOffset: 30 };
    const runs: string[] = [];
    const tiles = new MaskTiles(shape, undefined, { causal: true, maxRows: 64, keyChunk: 64 });
    for (let t = 0; t < tiles.count; t++) {
      tiles.visit(0, t, { full: (k0, k1) => runs.push(`${k0}-${k1}`), partial: () => {}, columns: () => {} });
    }
    expect(runs).toEqual(['0-94', '0-100']);
  });

  it('the MaskMod is never called for a pair after its query when causal', () => {
    const shape: MaskShape = { heads: 1, qLength: 40, kvLength: 40, qOffset: 0 };
    const mask = {
      blocks: buildBlockMask(
        shape,
        { blockQ: 16, blockK: 16 },
        {
          maskMod: (_h, q, k) => {
            if (k > q) throw new Error(`MaskMod called for the future pair (${q}, ${k})`);
            return (q + k) % 2 === 0;
          },
        },
        (_h, qb, _full, partial) => partial.pushRange(0, qb + 1),
      ),
    };
    const tiles = new MaskTiles(shape, mask, { causal: true, maxRows: 64, keyChunk: 64 });
    let pieces = 0;
    for (let t = 0; t < tiles.count; t++) tiles.visit(0, t, { full: () => {}, partial: () => pieces++, columns: () => {} });
    expect(pieces).toBe(6);
  });

  it('rejects a row tile or key chunk below 1', () => {
    const shape: MaskShape = { heads: 1, qLength: 4, kvLength: 4, qOffset: 0 };
    expect(() => new MaskTiles(shape, undefined, { causal: true, maxRows: 0, keyChunk: 64 })).toThrow(/maxRows must be/);
    expect(() => new MaskTiles(shape, undefined, { causal: true, maxRows: 64, keyChunk: 0.5 })).toThrow(/keyChunk must be/);
  });
});
