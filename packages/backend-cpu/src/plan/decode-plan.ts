import { IntList, lowerBound } from '@sparseland/core/kit';
import { ATTEND_TASK_INTS, SEG_CAUSAL, SEG_COLUMNS, SEG_RANGE } from '../driver/job-layout.js';
import { TILE } from '../scratch-layout.js';
import { type AttendPlan, sortByCost } from './attend-plan.js';

/** The keys one kv head offers a decode: `count` keys, or the listed slots (sorted), read in place or gathered. */
export interface DecodeKeys {
  /** Keys the source holds for this head (the slot list's length when there is one). */
  readonly count: number;
  /** Positions of the keys (sorted); absent: key i sits at position i. */
  readonly slots?: Int32Array | undefined;
  /**
   * True: the slots index a resident cache and are gathered by the kernel (COLUMNS segments). False: the source
   * holds exactly the listed keys, in order (a RANGE segment over them).
   */
  readonly gather: boolean;
}

export interface DecodePlan extends AttendPlan {
  /** Row table order: the query rows of one kv group are stacked (h in group, i), as absolute rows h·qLength + i. */
  readonly rowOrder: Int32Array;
}

/**
 * Tasks of a decode: the query rows of every head of a GQA group stacked into tasks of up to 64 rows, so one pass
 * over the group's keys serves all of them; each task reads the keys visible to its last row (causal).
 */
export function planDecode(
  shape: { readonly heads: number; readonly kvHeads: number; readonly qLength: number; readonly qOffset: number; readonly dim: number },
  causal: boolean,
  keysOf: (g: number) => DecodeKeys,
): DecodePlan {
  const { heads, kvHeads, qLength, qOffset } = shape;
  const group = heads / kvHeads;
  const rowOrder = new Int32Array(heads * qLength);
  const tasks = new IntList();
  const segments = new IntList();
  const columns = new IntList();
  const costs: number[] = [];
  let work = 0;
  let t = 0;
  for (let g = 0; g < kvHeads; g++) {
    const first = t;
    for (let h = g * group; h < (g + 1) * group; h++) for (let i = 0; i < qLength; i++) rowOrder[t++] = h * qLength + i;
    const keys = keysOf(g);
    for (let r0 = first; r0 < t; r0 += TILE) {
      const rows = Math.min(TILE, t - r0);
      let minPos = Number.POSITIVE_INFINITY;
      let maxPos = -1;
      for (let r = r0; r < r0 + rows; r++) {
        const pos = qOffset + ((rowOrder[r] as number) % qLength);
        minPos = Math.min(minPos, pos);
        maxPos = Math.max(maxPos, pos);
      }
      // Keys visible to some row: positions <= maxPos when causal.
      const n = causal ? countAtMost(keys.slots, keys.count, maxPos) : keys.count;
      const lastKeyPos = n === 0 ? -1 : keys.slots ? (keys.slots[n - 1] as number) : n - 1;
      const flags = causal && lastKeyPos > minPos ? SEG_CAUSAL : 0;
      const segStart = segments.length / 4;
      if (n > 0 && keys.gather && keys.slots) {
        segments.push4(SEG_COLUMNS | flags, columns.length, n, 0);
        for (let j = 0; j < n; j++) columns.push(keys.slots[j] as number);
      } else if (n > 0) segments.push4(SEG_RANGE | flags, 0, n, 0);
      tasks.push4(r0, rows, segStart, segments.length / 4 - segStart);
      tasks.push(g);
      tasks.push(Math.floor((rowOrder[r0] as number) / qLength));
      costs.push(rows * n + 64);
      work += rows * n * shape.dim;
    }
  }
  return {
    tasks: sortByCost(tasks.view(), costs, ATTEND_TASK_INTS),
    segments: segments.view(),
    bitmaps: new Int32Array(0),
    columns: columns.view(),
    work,
    rowOrder,
  };
}

/** Number of leading keys whose position is <= pos (slots are sorted; no slots means positions 0..count-1). */
function countAtMost(slots: Int32Array | undefined, count: number, pos: number): number {
  return slots ? lowerBound(slots, pos + 1) : Math.max(0, Math.min(count, pos + 1));
}
