import { keepTop } from './top-k.js';

/**
 * AdaKV's allocation: the layer keeps `budget · heads` slots in all, chosen by one top-k over every head's scores
 * (scores must be comparable across heads, e.g. attention probabilities); each head first gets its own top
 * `alpha · budget` (the safeguard, so no head collapses) and its protected slots. Returns each head's kept slots.
 */
export function allocateAcrossHeads(
  scores: readonly Float64Array[],
  budget: number,
  alpha: number,
  protect: readonly Uint8Array[],
): Int32Array[] {
  const heads = scores.length;
  const total = Math.min(
    budget * heads,
    scores.reduce((n, s) => n + s.length, 0),
  );
  const keep = scores.map((s) => new Uint8Array(s.length));
  let kept = 0;
  scores.forEach((s, g) => {
    const floor = Math.min(s.length, Math.max(Math.floor(alpha * budget), countOnes(protect[g])));
    for (const slot of keepTop(s, floor, protect[g])) {
      (keep[g] as Uint8Array)[slot] = 1;
      kept++;
    }
  });
  // The rest of the layer's budget goes to the best remaining slots of any head.
  const rest: { g: number; s: number; score: number }[] = [];
  scores.forEach((s, g) => {
    for (let slot = 0; slot < s.length; slot++) if (!(keep[g] as Uint8Array)[slot]) rest.push({ g, s: slot, score: s[slot] as number });
  });
  rest.sort((a, b) => b.score - a.score || b.s - a.s || a.g - b.g);
  for (let i = 0; i < rest.length && kept < total; i++) {
    const r = rest[i] as { g: number; s: number };
    (keep[r.g] as Uint8Array)[r.s] = 1;
    kept++;
  }
  return keep.map((k) => {
    const out: number[] = [];
    k.forEach((x, s) => {
      if (x) out.push(s);
    });
    return Int32Array.from(out);
  });
}

function countOnes(mask: Uint8Array | undefined): number {
  let n = 0;
  if (mask) for (const x of mask) n += x;
  return n;
}
