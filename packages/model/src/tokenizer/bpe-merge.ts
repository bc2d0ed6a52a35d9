/**
 * llama2.c's BPE merge loop, in O(n log n) instead of O(n²): repeatedly merge the adjacent pair whose concatenation
 * is a vocabulary piece with the highest score, the leftmost pair among equal scores (run.c scans left to right and
 * keeps a pair only when its score is strictly higher). A heap holds candidate pairs; entries made stale by an
 * earlier merge are recognised by per-symbol version numbers and dropped.
 *
 * `ids` are the initial symbols; `keyOf(id)` is the piece as a binary string; `lookup(key)` finds a piece's id.
 */
const MIN_MERGE_SCORE = -1e10;

export function bpeMerge(
  ids: readonly number[],
  keyOf: (id: number) => string,
  lookup: (key: string) => number | undefined,
  scores: Float32Array,
): number[] {
  const n = ids.length;
  if (n < 2) return ids.slice();
  const symbol = Int32Array.from(ids);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const version = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new PairHeap();
  const consider = (left: number): void => {
    const right = next[left] as number;
    if (right < 0) return;
    const merged = lookup(keyOf(symbol[left] as number) + keyOf(symbol[right] as number));
    // run.c starts its search at -1e10 with a strict comparison: pieces scored at or below it never merge.
    if (merged === undefined || !((scores[merged] as number) > MIN_MERGE_SCORE)) return;
    heap.push(scores[merged] as number, left, right, merged, version[left] as number, version[right] as number);
  };
  for (let i = 0; i + 1 < n; i++) consider(i);
  while (heap.size > 0) {
    const top = heap.pop();
    const { left, right } = top;
    if (!alive[left] || !alive[right] || next[left] !== right) continue;
    if (version[left] !== top.leftVersion || version[right] !== top.rightVersion) continue;
    symbol[left] = top.merged;
    version[left] = (version[left] as number) + 1;
    alive[right] = 0;
    const after = next[right] as number;
    next[left] = after;
    if (after >= 0) prev[after] = left;
    const before = prev[left] as number;
    if (before >= 0) consider(before);
    consider(left);
  }
  const out: number[] = [];
  for (let i = 0; i >= 0; i = next[i] as number) out.push(symbol[i] as number);
  return out;
}

interface PairEntry {
  readonly score: number;
  readonly left: number;
  readonly right: number;
  readonly merged: number;
  readonly leftVersion: number;
  readonly rightVersion: number;
}

/** A binary max-heap on (score, then smaller left index). */
class PairHeap {
  private readonly items: PairEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(score: number, left: number, right: number, merged: number, leftVersion: number, rightVersion: number): void {
    const items = this.items;
    items.push({ score, left, right, merged, leftVersion, rightVersion });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as PairEntry, items[parent] as PairEntry)) break;
      [items[i], items[parent]] = [items[parent] as PairEntry, items[i] as PairEntry];
      i = parent;
    }
  }

  pop(): PairEntry {
    const items = this.items;
    const top = items[0] as PairEntry;
    const last = items.pop() as PairEntry;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < items.length && before(items[l] as PairEntry, items[best] as PairEntry)) best = l;
        if (r < items.length && before(items[r] as PairEntry, items[best] as PairEntry)) best = r;
        if (best === i) break;
        [items[i], items[best]] = [items[best] as PairEntry, items[i] as PairEntry];
        i = best;
      }
    }
    return top;
  }
}

function before(a: PairEntry, b: PairEntry): boolean {
  return a.score > b.score || (a.score === b.score && a.left < b.left);
}
