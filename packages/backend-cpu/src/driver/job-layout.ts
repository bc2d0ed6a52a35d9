/**
 * How a job is laid out in the shared memory (all offsets are element indices of the i32/f32 views). The calling
 * thread writes a job, every thread runs `runJob` on it, taking tasks from the shared counter until none is left.
 */

/** Job header fields (i32 elements at the job's offset; SCALE is read through the f32 view). */
export const H = {
  COUNTER: 0,
  TASKS: 1,
  OP: 2,
  DP: 3,
  SCALE: 4,
  TASK_TABLE: 5,
  ROW_TABLE: 6,
  SEG_TABLE: 7,
  SOURCE_TABLE: 8,
  FLAGS: 9,
} as const;
export const HEADER_INTS = 16;

export const OP_ATTEND = 1;
export const OP_SCORES = 2;
export const OP_QUANT_ROWS = 3;
export const OP_QUANT_POOL = 4;
export const OP_LINEAR = 5;

/** ATTEND task: rows [rowStart, rowStart + rows) of the row table, segments [segStart, +segCount), kv source, head. */
export const ATTEND_TASK_INTS = 6;
export const T_ROW_START = 0;
export const T_ROWS = 1;
export const T_SEG_START = 2;
export const T_SEG_COUNT = 3;
export const T_SOURCE = 4;
export const T_HEAD = 5;

/** Row record: [Q row offset, output row offset, stat offset (max, sum), absolute position]. */
export const ROW_INTS = 4;

/** Segment record: [kind | flags, a, n, aux]. */
export const SEG_INTS = 4;
/** Contiguous keys [a, a + n) of the source (any length; split at 64-key chunk boundaries). */
export const SEG_RANGE = 0;
/** Keys [a, a + n) inside one 64-key chunk, filtered by a bitmap at aux (2 words per task row). */
export const SEG_PARTIAL = 1;
/** Gathered key columns: n positions listed at i32 offset a. */
export const SEG_COLUMNS = 2;
/**
 * Tokens [0, n) of a packed low-bit KV block (decodePacked) whose descriptor is at the source's K offset + a; aux is
 * the position of its first token. Dequantised 64 tokens at a time into the scratch by unpackTile.
 */
export const SEG_PACKED = 3;
/**
 * Keys [a, a + n) of a column pool (the union of a ColumnMask head's columns, gathered once per call): read as a
 * range of the source at (the task's source index + aux), whose key positions are listed.
 */
export const SEG_POOLED = 4;
/** i32 fields of a packed block descriptor (see ops/packed-decode.ts). */
export const PACKED_DESC_INTS = 12;
export const SEG_KIND_MASK = 15;
/** Keys after a row's position must be dropped in this segment. */
export const SEG_CAUSAL = 16;

/** Source record: [packed K offset, V offset, key-position list offset or -1 for position = key index]. */
export const SOURCE_INTS = 3;

/**
 * SCORES task (pooledScores, lastQueriesAttention, lastQueriesSums): rows [0, rows) at Q offset q (contiguous,
 * stride dp), keys [0, n) of the packed K at kp, output rows at out with stride outStride, per-row last kept key at
 * i32 `last` (-1 = none). FLAGS & 1: softmax each row over [0, last] and zero the rest; otherwise the rest is
 * -Infinity. Then `vertical` (f64 index, -1: none) and `slash`: each softmaxed row r is added to the probe sums,
 * vertical[j] and slash[slash + r − j]: such a task holds all of its head's rows (any count, in chunks of 64), and
 * only the sums are its result: its output rows (up to 64, reused by every chunk) hold each tile's exp(x − m) and
 * `stats` (f32, 2·⌈n / 64⌉ per output row) each tile's (m, l).
 */
export const SCORES_TASK_INTS = 10;
export const FLAG_SOFTMAX = 1;

/**
 * QUANT tasks: int8 Q rows at byte qi (rows of `stride` bytes), int8 K rows at byte ki, n keys, per-row scales
 * (logit scale included) at rowScale, per-key scales at keyScale, per-row last kept key at `last`.
 * Rows mode: output rows at out (stride outStride), -Infinity after last.
 * Pool mode: the task is one query block; out is its row of block maxima, blockK keys per block.
 * Then the per-row logit offsets at rowBias (f32, -1: none; subtracted before rows are written or pooled) and
 * `narrow` (1 when every integer is within ±7: the relaxed kernels may use 8-bit dot products).
 */
export const QUANT_TASK_INTS = 13;

/**
 * LINEAR jobs (y = x·Wᵀ): header fields beyond the common ones, then tasks of rows [rowStart, rowStart + rows) ×
 * panels [p0, p1) of W packed in panels of 8 outputs (see assembly/kernels.ts linearRows).
 */
export const LIN_X = 6;
export const LIN_X_STRIDE = 7;
export const LIN_WP = 8;
export const LIN_IN = 9;
export const LIN_OUT = 10;
export const LIN_OUT_STRIDE = 11;
export const LINEAR_TASK_INTS = 4;

/**
 * SCORE_REDUCE job (the `scores` op): header field H_SCORES points at a descriptor of SD_INTS i32 fields (below);
 * tasks are [head, first requested row, end row] (range or list keys) or [head, group, 0] (key groups).
 */
export const OP_SCORE_REDUCE = 6;
/** Header field of SCORE_REDUCE jobs only (other ops use fields past FLAGS for their own purposes). */
export const H_SCORES = 11;
export const SCORES_TASK_FIELDS = 3;
export const SD = {
  /** SF_* flags. */
  FLAGS: 0,
  /** Requested rows per head (R). */
  ROWS: 1,
  /** Q rows [heads][R][dp]. */
  Q: 2,
  /**
   * K rows [kvHeads][kvLength][dp], row-major; with SF_PACKED_K (a key range starting at a multiple of 64) packed as
   * the attention ops pack them: 64-key chunks stored transposed, ⌈kvLength / 64⌉·64·dp floats per kv head, so a
   * tile is read in place instead of gathered.
   */
  K: 3,
  KV_LENGTH: 4,
  /** Query heads per kv head. */
  GROUP: 5,
  /** Key list (i32) or -1 for the range [KEY_START, KEY_START + KEY_COUNT). */
  KEY_LIST: 6,
  KEY_START: 7,
  KEY_COUNT: 8,
  /** Per requested row: first and last visible key (inclusive, i32). */
  LO: 9,
  HI: 10,
  /** Scores [heads][R][KEY_COUNT] (pre-filled with -Infinity). */
  OUT: 11,
  /** Row statistics records [heads][R][STAT_INTS]. */
  STATS: 12,
  TOPK_K: 13,
  TOPK_CAP: 14,
  TOPK_VALUES: 15,
  TOPK_INDICES: 16,
  /** f64 thresholds [heads][R] (an even i32 index), their bit words [heads][R][ATLEAST_WORDS]. */
  ATLEAST_T: 17,
  ATLEAST_WORDS: 18,
  ATLEAST_BITS: 19,
  /** Key groups: row bounds (G + 1), offsets (heads·G + 1), indices, and the column maxima (one per index). */
  GROUPS: 20,
  GROUP_COUNT: 21,
  OFFSETS: 22,
  INDICES: 23,
  COLMAX: 24,
  /** Offset of each thread's scores scratch from its kernel scratch. */
  EXTRA: 25,
} as const;
export const SD_INTS = 26;
export const SF_OUTPUT = 1;
export const SF_MAX = 2;
export const SF_MIN = 4;
export const SF_MOMENTS = 8;
export const SF_TOPK = 16;
export const SF_ATLEAST = 32;
export const SF_COLMAX = 64;
export const SF_PACKED_K = 128;
