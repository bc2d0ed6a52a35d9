import type { AttentionShape, MaskMod, SparseMask } from '@sparseland/core';
import { DENSE_TILE_K } from './dense-plan.js';
import { type WorkPlan, WorkPlanBuilder } from './work-plan.js';

const NONE = 0;
const PARTIAL = 1;
const FULL = 2;
const EMPTY = new Int32Array(0);

/**
 * A SparseMask as a work plan, tiles = the BlockMask's blocks (or the ColumnMask's query blocks when there are no
 * blocks). Full blocks become plain items; partial blocks become items with a bitmap filled by the MaskMod (the only
 * place JS runs per pair); columns land in the bitmap of a partial block they fall in, are dropped when a full block
 * already keeps them (each key once), and are otherwise gathered 64 at a time. With `causal`, blocks and columns
 * entirely after a tile's last query are left out.
 */
export function maskPlan(shape: AttentionShape, mask: SparseMask, causal: boolean): WorkPlan {
  const { blocks, columns } = mask;
  const tileQ = blocks?.blockQ ?? columns?.blockQ ?? DENSE_TILE_K;
  const tileK = blocks?.blockK ?? DENSE_TILE_K;
  const builder = new WorkPlanBuilder(shape.heads, shape.qLength, tileQ, tileK);
  const kBlocks = Math.ceil(shape.kvLength / tileK);
  const state = new Uint8Array(kBlocks);
  const setters: ((r: number, c: number) => void)[] = new Array(kBlocks);
  const maskMod = blocks?.maskMod;

  for (let h = 0; h < shape.heads; h++) {
    for (let t = 0; t < builder.qTiles; t++) {
      const i0 = t * tileQ;
      const i1 = Math.min(shape.qLength, i0 + tileQ);
      const lastQuery = shape.qOffset + i1 - 1;
      const full = blocks ? blocks.fullBlocks(h, t) : EMPTY;
      const partial = blocks ? blocks.partialBlocks(h, t) : EMPTY;
      for (const kb of partial) state[kb] = PARTIAL;
      for (const kb of full) state[kb] = FULL;

      forEachAscending(full, partial, (kb) => {
        const k0 = kb * tileK;
        if (causal && k0 > lastQuery) return;
        if (state[kb] === FULL) {
          builder.addBlock(h, t, k0);
          return;
        }
        const bitmap = builder.newBitmap();
        setters[kb] = bitmap.set;
        fillPartialBits(maskMod as MaskMod, h, shape.qOffset + i0, i1 - i0, k0, Math.min(shape.kvLength, k0 + tileK), causal, bitmap.set);
        builder.addBlock(h, t, k0, bitmap.index);
      });

      if (columns) addColumns(builder, columns, h, t, i0, i1, lastQuery, causal, state, setters);

      for (const kb of full) state[kb] = NONE;
      for (const kb of partial) state[kb] = NONE;
      builder.endTile();
    }
  }
  return builder.build();
}

/** Calls `visit` on every key block of two ascending lists, in ascending order, once each. */
function forEachAscending(a: Int32Array, b: Int32Array, visit: (kb: number) => void): void {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? (a[i] as number) : Number.POSITIVE_INFINITY;
    const y = j < b.length ? (b[j] as number) : Number.POSITIVE_INFINITY;
    if (x <= y) i++;
    if (y <= x) j++;
    visit(Math.min(x, y));
  }
}

function fillPartialBits(
  maskMod: MaskMod,
  h: number,
  firstQuery: number,
  rows: number,
  k0: number,
  k1: number,
  causal: boolean,
  set: (r: number, c: number) => void,
): void {
  for (let r = 0; r < rows; r++) {
    const qPos = firstQuery + r;
    const kEnd = causal ? Math.min(k1, qPos + 1) : k1;
    for (let k = k0; k < kEnd; k++) if (maskMod(h, qPos, k)) set(r, k - k0);
  }
}

/**
 * Columns of the ColumnMask query blocks overlapping tile rows [i0, i1). When one column block covers the whole
 * tile every row keeps the same columns; otherwise gathered rows carry a bitmap saying which tile row keeps which.
 */
function addColumns(
  builder: WorkPlanBuilder,
  columns: NonNullable<SparseMask['columns']>,
  h: number,
  t: number,
  i0: number,
  i1: number,
  lastQuery: number,
  causal: boolean,
  state: Uint8Array,
  setters: ((r: number, c: number) => void)[],
): void {
  const tileK = builder.tileK;
  const firstGroup = Math.floor(i0 / columns.blockQ);
  const lastGroup = Math.floor((i1 - 1) / columns.blockQ);
  // Gathered keys and, for each, which tile rows keep it (a bit mask over groups is enough: rows of a group agree).
  const gathered = new Map<number, number[]>();
  for (let cg = firstGroup; cg <= lastGroup; cg++) {
    const r0 = Math.max(i0, cg * columns.blockQ) - i0;
    const r1 = Math.min(i1, (cg + 1) * columns.blockQ) - i0;
    for (const k of columns.columns(h, cg)) {
      if (causal && k > lastQuery) break;
      const kb = Math.floor(k / tileK);
      if (state[kb] === FULL) continue;
      if (state[kb] === PARTIAL) {
        const set = setters[kb] as (r: number, c: number) => void;
        for (let r = r0; r < r1; r++) set(r, k - kb * tileK);
        continue;
      }
      let groups = gathered.get(k);
      if (!groups) gathered.set(k, (groups = []));
      groups.push(cg);
    }
  }
  if (gathered.size === 0) return;
  const keys = Array.from(gathered.keys()).sort((a, b) => a - b);
  const shared = firstGroup === lastGroup;
  for (let p = 0; p < keys.length; p += tileK) {
    const row = builder.addKeyRow(keys, p, Math.min(keys.length, p + tileK));
    if (shared) {
      builder.addGather(h, t, row);
      continue;
    }
    const bitmap = builder.newBitmap();
    for (let c = 0; c < tileK && p + c < keys.length; c++) {
      for (const cg of gathered.get(keys[p + c] as number) as number[]) {
        const r0 = Math.max(i0, cg * columns.blockQ) - i0;
        const r1 = Math.min(i1, (cg + 1) * columns.blockQ) - i0;
        for (let r = r0; r < r1; r++) bitmap.set(r, c);
      }
    }
    builder.addGather(h, t, row, bitmap.index);
  }
}
