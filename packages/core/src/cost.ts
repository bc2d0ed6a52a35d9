/** Counts floating-point operations as work is done, by label (e.g. `estimate`, `attend`). */
export interface CostMeter {
  add(flops: number, label?: string): void;
  readonly total: number;
  readonly byLabel: Readonly<Record<string, number>>;
}

export function createCostMeter(): CostMeter {
  const byLabel: Record<string, number> = {};
  let total = 0;
  return {
    add(flops, label = 'other') {
      total += flops;
      byLabel[label] = (byLabel[label] ?? 0) + flops;
    },
    get total() {
      return total;
    },
    get byLabel() {
      return { ...byLabel };
    },
  };
}
