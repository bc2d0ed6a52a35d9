import { summedAttention } from '../parts/attention-rows.js';
import type { Scorer } from '../parts/compose.js';
import { pool1d } from '../parts/pooling.js';
import { QueryWindow } from '../parts/query-window.js';

export interface WindowVoteOptions {
  /** Observation window: the last `window` queries vote. */
  readonly window: number;
  /** Pooling kernel (odd) and kind that spread each vote to the neighbours of a hit. */
  readonly kernel: number;
  readonly pooling: 'avg' | 'max';
}

/**
 * SnapKV's score: the attention the last `window` queries give each slot (summed over the window and the query
 * heads of the kv head's group), smoothed by 1-D pooling. At decode the window slides over the newest queries.
 */
export function windowVoteScorer(options: WindowVoteOptions): Scorer<QueryWindow> {
  return {
    create: () => new QueryWindow(options.window),
    observe: (win, { queries, position }) => win.push(queries, position),
    score(win, { cache }, g) {
      const votes = summedAttention(cache, g, win.tensor(), { start: 0, count: win.size }, (i) => win.position(i));
      return options.kernel > 1 ? pool1d(votes, options.kernel, options.pooling) : votes;
    },
    stateBytes: (win) => win.bytes(),
  };
}
