import { definePattern, type MaskShape } from '@sparseland/core';
import { createRng, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { IntervalSet, type IntSet, mergeIntervals, RunTable } from '../engine/int-set.js';
import { sequenceLength, termPattern } from '../engine/pattern-instance.js';
import { blockGridTerm } from '../engine/terms/block-grid-term.js';
import { PAPERS } from '../papers.js';

/**
 * BigBird's block-sparse pattern (HF `block_sparse`) on blocks of `blockSize` tokens: each query block sees the
 * `windowBlocks` blocks around it, the first and last `globalBlocks` blocks, and `randomBlocks` random blocks drawn
 * per head and query block from the rest (seeded: the same seed gives the same mask everywhere). The first and
 * last `globalBlocks` query blocks see everything. Bidirectional (an encoder pattern).
 */
export const bigbird = definePattern({
  name: 'bigbird',
  summary: 'BigBird: sliding blocks + global first/last blocks + seeded random blocks per head.',
  paper: PAPERS.bigBird,
  budget: { param: 'randomBlocks', denser: 'higher' },
  params: z
    .object({
      blockSize: intParam(1, 64, 'tokens per BigBird block (HF block_size 64)'),
      windowBlocks: intParam(1, 3, 'sliding blocks centred on the query block (odd; 3 = itself ± 1)'),
      globalBlocks: intParam(0, 1, 'blocks at each end that are global (1 = first and last block)'),
      randomBlocks: intParam(0, 3, 'random key blocks per query block and head (HF num_random_blocks 3)'),
      seed: z.number().int().default(0).describe('seed of the random blocks'),
    })
    .strict()
    .refine((p) => p.windowBlocks % 2 === 1, { message: 'windowBlocks must be odd', path: ['windowBlocks'] }),
  build: (params) =>
    termPattern('bigbird', false, (shape) => {
      const plan = planBigBird(params, shape);
      const { size, blocks, global, radius } = plan;
      const isGlobal = (b: number) => b < global || b >= blocks - global;
      return {
        maskMod: (h, q, k) => {
          const qb = Math.floor(q / size);
          const kb = Math.floor(k / size);
          if (isGlobal(qb) || isGlobal(kb) || Math.abs(qb - kb) <= radius) return true;
          const r = plan.random[h] as Int32Array;
          for (let i = qb * plan.perRow; i < (qb + 1) * plan.perRow; i++) if (r[i] === kb) return true;
          return false;
        },
        layout: {
          classes: Array.from({ length: shape.heads }, (_, h) => [blockGridTerm(size, keyBlocksOf(plan, h), false)]),
          classOf: (h) => h,
        },
      };
    }),
});

interface BigBirdPlan {
  readonly size: number;
  /** Pattern blocks covering the sequence. */
  readonly blocks: number;
  readonly global: number;
  readonly radius: number;
  readonly perRow: number;
  /** Per head: `perRow` random key blocks per query block (−1 = unused slot). */
  readonly random: Int32Array[];
}

function planBigBird(
  p: { blockSize: number; windowBlocks: number; globalBlocks: number; randomBlocks: number; seed: number },
  shape: MaskShape,
): BigBirdPlan {
  const size = p.blockSize;
  const blocks = Math.ceil(sequenceLength(shape) / size);
  const global = p.globalBlocks;
  const radius = (p.windowBlocks - 1) / 2;
  const perRow = p.randomBlocks;
  const random = Array.from({ length: shape.heads }, (_, h) => {
    const table = new Int32Array(blocks * perRow).fill(-1);
    for (let qb = global; qb < blocks - global; qb++) drawRandomBlocks(table, qb, h, p.seed, blocks, global, radius, perRow);
    return table;
  });
  return { size, blocks, global, radius, perRow, random };
}

/** Draws `perRow` distinct blocks among the non-global blocks outside the window of `qb` (all of them if fewer). */
function drawRandomBlocks(
  table: Int32Array,
  qb: number,
  head: number,
  seed: number,
  blocks: number,
  global: number,
  radius: number,
  perRow: number,
): void {
  // Candidates: [global, blocks − global) without the window [a, b].
  const a = Math.max(global, qb - radius);
  const b = Math.min(blocks - global - 1, qb + radius);
  const windowCount = Math.max(0, b - a + 1);
  const count = blocks - 2 * global - windowCount;
  const pick = (index: number) => {
    const x = global + index;
    return windowCount > 0 && x >= a ? x + windowCount : x;
  };
  const base = qb * perRow;
  if (count <= perRow) {
    for (let i = 0; i < count; i++) table[base + i] = pick(i);
    return;
  }
  const rng = createRng(mix(seed, head, qb));
  let filled = 0;
  while (filled < perRow) {
    const candidate = pick(rng.int(count));
    let seen = false;
    for (let i = 0; i < filled; i++) if (table[base + i] === candidate) seen = true;
    if (!seen) table[base + filled++] = candidate;
  }
}

/** A seed for (seed, head, query block) that does not depend on the sequence length. */
function mix(seed: number, head: number, block: number): number {
  let x = (seed ^ Math.imul(head + 1, 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) ^ Math.imul(block + 1, 0xc2b2ae35);
  return (x ^ (x >>> 13)) >>> 0;
}

/**
 * Kept key blocks of every query block for head h, merged into runs once and stored in one table (window, global
 * and random blocks of a row overlap near the ends).
 */
function keyBlocksOf(plan: BigBirdPlan, h: number): (qb: number) => IntSet {
  const { blocks, global, radius, perRow } = plan;
  const table = plan.random[h] as Int32Array;
  const all = new IntervalSet([[0, blocks - 1]]);
  const starts: number[] = [];
  const ends: number[] = [];
  const rows: IntSet[] = [];
  for (let qb = 0; qb < blocks; qb++) {
    if (qb < global || qb >= blocks - global) {
      rows.push(all);
      continue;
    }
    const pieces: [number, number][] = [
      [Math.max(0, qb - radius), Math.min(blocks - 1, qb + radius)],
      [0, global - 1],
      [blocks - global, blocks - 1],
    ];
    for (let i = qb * perRow; i < (qb + 1) * perRow; i++) {
      const kb = table[i] as number;
      if (kb >= 0) pieces.push([kb, kb]);
    }
    const runs = mergeIntervals(pieces);
    rows.push(new RunTable(starts, ends, starts.length, runs.starts.length));
    starts.push(...runs.starts);
    ends.push(...runs.ends);
  }
  return (qb) => rows[qb] ?? all;
}
