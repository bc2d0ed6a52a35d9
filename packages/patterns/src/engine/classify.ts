import { Coverage, type Term } from './term.js';

/**
 * Coverage of the box [q0, q1) × [k0, k1) by the union of `terms`, exactly as createBlockMask would classify it.
 * A term covering the box makes it full; no term touching it makes it empty. When several terms each keep part
 * of the box, only splitting it tells whether together they keep all of it.
 */
export function unionCoverage(terms: readonly Term[], q0: number, q1: number, k0: number, k1: number): Coverage {
  if (terms.length === 1) return (terms[0] as Term).cover(q0, q1, k0, k1);
  let partial = 0;
  for (const t of terms) {
    const c = t.cover(q0, q1, k0, k1);
    if (c === Coverage.all) return Coverage.all;
    if (c === Coverage.some) partial++;
  }
  if (partial <= 1) return partial === 1 ? Coverage.some : Coverage.none;
  // Cheap necessary test first: a dropped corner settles it (most boxes here straddle a band's edge).
  if (!keptByAny(terms, q0, k0) || !keptByAny(terms, q0, k1 - 1) || !keptByAny(terms, q1 - 1, k0) || !keptByAny(terms, q1 - 1, k1 - 1)) {
    return Coverage.some;
  }
  return jointlyFull(terms, q0, q1, k0, k1) ? Coverage.all : Coverage.some;
}

function keptByAny(terms: readonly Term[], q: number, k: number): boolean {
  for (const t of terms) if (t.has(q, k)) return true;
  return false;
}

/** Whether the union keeps every pair of the box, by halving it until single terms decide. */
function jointlyFull(terms: readonly Term[], q0: number, q1: number, k0: number, k1: number): boolean {
  let partial = 0;
  for (const t of terms) {
    const c = t.cover(q0, q1, k0, k1);
    if (c === Coverage.all) return true;
    if (c === Coverage.some) partial++;
  }
  // Nothing kept, or exactly one term keeping part of the box: some pair is dropped.
  if (partial <= 1) return false;
  if (q1 - q0 >= k1 - k0) {
    const mid = (q0 + q1) >> 1;
    return jointlyFull(terms, q0, mid, k0, k1) && jointlyFull(terms, mid, q1, k0, k1);
  }
  const mid = (k0 + k1) >> 1;
  return jointlyFull(terms, q0, q1, k0, mid) && jointlyFull(terms, q0, q1, mid, k1);
}
