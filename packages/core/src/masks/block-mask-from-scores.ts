import type { BlockScores } from '../backend.js';
import { expectInteger, expectNumber, SparselandError } from '../errors.js';
import type { MaskShape } from '../tensor/shape.js';
import type { BlockMask } from './block-mask.js';
import { buildBlockMask } from './build-block-mask.js';

/** How to pick blocks in each (head, query block) row of a score matrix. Exactly one rule. */
export type BlockSelection =
  | { readonly topK: number }
  | { readonly threshold: number }
  /** Scores are non-negative masses; keep the fewest blocks whose mass reaches this fraction of the row total. */
  | { readonly cumulative: number };

/**
 * Turns per-block scores (e.g. from `Backend.pooledScores` or a gate) into a BlockMask of full blocks.
 * Blocks scored -Infinity or NaN are never picked; ties break toward the lower block index, so results are
 * deterministic. The call's causality still clips the kept blocks at run time.
 */
export function blockMaskFromScores(scores: BlockScores, shape: MaskShape, selection: BlockSelection): BlockMask {
  const { heads, qBlocks, kBlocks, blockQ, blockK, data } = scores;
  if (qBlocks !== Math.ceil(shape.qLength / blockQ) || kBlocks !== Math.ceil(shape.kvLength / blockK)) {
    throw new SparselandError(
      'E_SHAPE',
      `scores are ${qBlocks}×${kBlocks} blocks of ${blockQ}×${blockK}, which does not tile qLength ${shape.qLength} × kvLength ${shape.kvLength}`,
    );
  }
  if (heads !== 1 && heads !== shape.heads) throw new SparselandError('E_SHAPE', `scores have ${heads} heads, the shape ${shape.heads}`);
  const rule = parseSelection(selection);
  const order = new Int32Array(kBlocks);
  return buildBlockMask(shape, { blockQ, blockK }, { heads, trusted: true }, (h, qb, full) => {
    const base = (h * qBlocks + qb) * kBlocks;
    let n = 0;
    for (let kb = 0; kb < kBlocks; kb++) {
      const s = data[base + kb] as number;
      if (s === -Infinity || Number.isNaN(s)) continue;
      if (rule.kind === 'threshold' && s < rule.value) continue;
      order[n++] = kb;
    }
    if (rule.kind === 'threshold') {
      full.pushAll(order.subarray(0, n));
      return;
    }
    const picked = order.subarray(0, n);
    picked.sort((a, b) => (data[base + b] as number) - (data[base + a] as number) || a - b);
    let take = n;
    if (rule.kind === 'topK') take = Math.min(n, rule.value);
    else {
      let total = 0;
      for (let p = 0; p < n; p++) total += Math.max(0, data[base + (picked[p] as number)] as number);
      let acc = 0;
      take = 0;
      // Relative slack so a row whose masses sum to exactly the target is not pushed one block further by rounding.
      while (take < n && acc < rule.value * total * (1 - 1e-12)) {
        acc += Math.max(0, data[base + (picked[take] as number)] as number);
        take++;
      }
    }
    const chosen = picked.slice(0, take).sort();
    full.pushAll(chosen);
  });
}

function parseSelection(selection: BlockSelection): { kind: 'topK' | 'threshold' | 'cumulative'; value: number } {
  const keys = Object.keys(selection ?? {});
  if (keys.length !== 1) {
    throw new SparselandError(
      'E_PARAMS',
      `block selection must have exactly one of topK, threshold or cumulative, got {${keys.join(', ')}}`,
    );
  }
  if ('topK' in selection) return { kind: 'topK', value: expectInteger(selection.topK, 'topK', 0) };
  if ('threshold' in selection) return { kind: 'threshold', value: expectNumber(selection.threshold, 'threshold') };
  if ('cumulative' in selection) return { kind: 'cumulative', value: expectNumber(selection.cumulative, 'cumulative', 0, 1) };
  throw new SparselandError('E_PARAMS', `block selection must be {topK}, {threshold} or {cumulative}, got {${keys.join(', ')}}`);
}
