/**
 * How many of the highest scores it takes to reach a share `tau` of their total (ZipVL's adaptive number of
 * important tokens). Scores are non-negative attention masses; 0 when all are zero.
 */
export function countForMass(scores: Float64Array, tau: number): number {
  let total = 0;
  for (const s of scores) total += s;
  if (total <= 0) return 0;
  const sorted = Float64Array.from(scores).sort().reverse();
  let acc = 0;
  for (let i = 0; i < sorted.length; i++) {
    acc += sorted[i] as number;
    if (acc >= tau * total) return i + 1;
  }
  return sorted.length;
}
