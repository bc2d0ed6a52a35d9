/**
 * PyramidKV's per-layer budget: with an average of `budget` slots per layer, the bottom layer gets 2·budget −
 * budget/β and the top layer budget/β, linearly in between (so the mean over layers stays `budget`). One layer
 * gets the budget itself.
 */
export function pyramidBudget(budget: number, layer: number, layers: number, beta: number): number {
  if (layers <= 1) return budget;
  const top = budget / beta;
  const bottom = 2 * budget - top;
  return Math.max(1, Math.round(bottom - ((bottom - top) * layer) / (layers - 1)));
}
