/** How numbers appear on the page (the tests read them back with the same precision). */
export function fixed(value: number, digits = 4): string {
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '—';
  return value.toFixed(digits);
}

export function gflop(flops: number): string {
  return (flops / 1e9).toFixed(3);
}

export function ms(value: number): string {
  return value < 10 ? value.toFixed(1) : value.toFixed(0);
}
