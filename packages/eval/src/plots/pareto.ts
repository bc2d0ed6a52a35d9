/** A point on a density (cost, lower is better) vs recall (quality, higher is better) plane. */
export interface TradeoffPoint {
  readonly density: number;
  readonly recall: number;
}

/**
 * The Pareto front: points no other point beats on both axes (at most the density and at least the recall, better on
 * one), sorted by density. Equal points are kept once.
 */
export function paretoFront<P extends TradeoffPoint>(points: readonly P[]): P[] {
  const sorted = [...points].sort((a, b) => a.density - b.density || b.recall - a.recall);
  const front: P[] = [];
  let best = -Infinity;
  for (const p of sorted) {
    if (p.recall > best) {
      front.push(p);
      best = p.recall;
    }
  }
  return front;
}
