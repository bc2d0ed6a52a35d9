/** One row of a benchmark suite; extra fields are allowed (ratios, notes). */
export interface BenchRecord {
  readonly suite?: string;
  readonly case: string;
  readonly backend?: string;
  readonly impl?: string;
  readonly threads?: number;
  readonly n?: number;
  readonly qHeads?: number;
  readonly kvHeads?: number;
  readonly dim?: number;
  readonly density?: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly runs: number;
  readonly gflops?: number;
  readonly note?: string;
  /** Set by writeSuite: the machine the record was measured on. */
  readonly machine?: { readonly cpu: string; readonly cores: number; readonly node: string };
  readonly [extra: string]: unknown;
}
export declare function benchSize(): 'smoke' | 'full';
export declare function measure(
  fn: () => unknown,
  options?: { runs?: number; warmups?: number },
): Promise<{ medianMs: number; minMs: number; maxMs: number; runs: number }>;
export declare function gflops(flops: number, ms: number): number;
export declare function formatTable(records: readonly Record<string, unknown>[]): string;
/** The machine a run is on (every written record carries it). */
export declare function machine(): { cpu: string; cores: number; node: string };
export declare function writeSuite(suite: string, records: readonly BenchRecord[], options?: { dir?: string }): string;
