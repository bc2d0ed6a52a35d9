/** A column of a plain-text table: header, and how to print a row's cell. Numbers are right-aligned. */
export interface Column<R> {
  readonly header: string;
  readonly cell: (row: R) => string | number | null | undefined;
  /** Digits after the point for numbers (default 3). */
  readonly digits?: number;
}

function show(value: string | number | null | undefined, digits: number): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) && Math.abs(value) < 1e6 ? String(value) : value.toFixed(digits);
}

/** A readable fixed-width table (what the CLI prints). */
export function formatTable<R>(columns: readonly Column<R>[], rows: readonly R[]): string {
  const cells = rows.map((r) => columns.map((c) => show(c.cell(r), c.digits ?? 3)));
  const numeric = columns.map((c) => rows.every((r) => typeof c.cell(r) !== 'string'));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => (row[i] as string).length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
