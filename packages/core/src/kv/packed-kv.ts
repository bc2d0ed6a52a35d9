import { describeValue, expectInteger, SparselandError } from '../errors.js';
import { LIMITS } from '../limits.js';

/** Bits per stored code of a packed KV block. */
export type PackedBits = 2 | 4 | 8;

export const PACKED_BITS: readonly PackedBits[] = Object.freeze([2, 4, 8]);

/**
 * `length` tokens of one kv head stored as KIVI does (Liu et al., 2024): asymmetric integer codes
 * x ≈ code · scale + min. Keys are quantised **per channel** over groups of `keyGroup` consecutive tokens (keys have
 * outlier channels); values **per token** over groups of `valueGroup` consecutive channels.
 *
 * Codes are token-major: token t's codes take `packedRowBytes(dim, bits)` bytes starting at t·rowBytes, channel c at
 * bit offset c·bits, lowest bits first (two int4 codes per byte: channel 2i in the low nibble).
 */
export interface PackedKvBlock {
  readonly bits: PackedBits;
  readonly length: number;
  readonly dim: number;
  /** Tokens sharing one (scale, min) per key channel. */
  readonly keyGroup: number;
  /** Channels sharing one (scale, min) per value token. */
  readonly valueGroup: number;
  /** [length × rowBytes] key codes. */
  readonly keyCodes: Uint8Array;
  /** [ceil(length / keyGroup) × dim] per key group and channel. */
  readonly keyScale: Float32Array;
  readonly keyMin: Float32Array;
  /** [length × rowBytes] value codes. */
  readonly valueCodes: Uint8Array;
  /** [length × ceil(dim / valueGroup)] per token and channel group. */
  readonly valueScale: Float32Array;
  readonly valueMin: Float32Array;
}

/**
 * One kv head of a packed cache. Its slots, in order: the blocks' tokens (oldest block first), then the
 * full-precision rows (KIVI's residual window: the newest tokens, not yet quantised).
 */
export interface PackedKvHead {
  readonly blocks: readonly PackedKvBlock[];
  /** [rows × dim] full-precision keys after the blocks. */
  readonly keys: Float32Array;
  readonly values: Float32Array;
}

/** A KV cache held partly as packed low-bit blocks, one entry per kv head (heads may hold different slot counts). */
export interface PackedKvCache {
  readonly kvHeads: number;
  readonly dim: number;
  readonly heads: readonly PackedKvHead[];
}

/** Bytes of one token's codes at `bits` per value. */
export function packedRowBytes(dim: number, bits: PackedBits): number {
  return Math.ceil((dim * bits) / 8);
}

/** Slots a head holds: every block's tokens plus its full-precision rows. */
export function packedHeadLength(head: PackedKvHead, dim: number): number {
  let n = head.keys.length / dim;
  for (const b of head.blocks) n += b.length;
  return n;
}

/** Bytes a block holds: codes plus scales and mins (float32). */
export function packedBlockBytes(block: PackedKvBlock): number {
  return (
    block.keyCodes.byteLength +
    block.valueCodes.byteLength +
    block.keyScale.byteLength +
    block.keyMin.byteLength +
    block.valueScale.byteLength +
    block.valueMin.byteLength
  );
}

/** Bytes a packed cache holds: blocks (codes, scales, mins) and full-precision rows. */
export function packedKvBytes(cache: PackedKvCache): number {
  let bytes = 0;
  for (const head of cache.heads) {
    bytes += head.keys.byteLength + head.values.byteLength;
    for (const b of head.blocks) bytes += packedBlockBytes(b);
  }
  return bytes;
}

export interface PackOptions {
  readonly bits: PackedBits;
  /** Tokens per key group (KIVI's G; default 32). */
  readonly keyGroup?: number;
  /** Channels per value group (default 32, clamped to dim). */
  readonly valueGroup?: number;
}

/** Default group size of KIVI (G = 32). */
export const DEFAULT_PACK_GROUP = 32;

/**
 * Quantises `length` rows of keys and values ([length × dim] each, row-major) into one packed block. Each group's
 * range [min, max] maps to codes 0 … 2^bits − 1 with round-to-nearest; a constant group stores scale 0 and is
 * exact.
 */
export function packKvBlock(keys: Float32Array, values: Float32Array, length: number, dim: number, options: PackOptions): PackedKvBlock {
  const bits = expectBits(options.bits);
  expectInteger(length, 'packKvBlock length', 0, LIMITS.length);
  expectInteger(dim, 'packKvBlock dim', 1, LIMITS.dim);
  const keyGroup = expectInteger(options.keyGroup ?? DEFAULT_PACK_GROUP, 'keyGroup', 1, LIMITS.length);
  const valueGroup = Math.min(dim, expectInteger(options.valueGroup ?? DEFAULT_PACK_GROUP, 'valueGroup', 1, LIMITS.dim));
  if (keys.length < length * dim || values.length < length * dim) {
    throw new SparselandError(
      'E_SHAPE',
      `packKvBlock: keys and values must hold length·dim = ${length * dim} values, got ${keys.length} and ${values.length}`,
    );
  }
  const levels = (1 << bits) - 1;
  const rowBytes = packedRowBytes(dim, bits);
  const keyCodes = new Uint8Array(length * rowBytes);
  const valueCodes = new Uint8Array(length * rowBytes);
  const keyGroups = Math.ceil(length / keyGroup);
  const keyScale = new Float32Array(keyGroups * dim);
  const keyMin = new Float32Array(keyGroups * dim);
  const valueGroups = Math.ceil(dim / valueGroup);
  const valueScale = new Float32Array(length * valueGroups);
  const valueMin = new Float32Array(length * valueGroups);

  for (let gi = 0; gi < keyGroups; gi++) {
    const t0 = gi * keyGroup;
    const t1 = Math.min(length, t0 + keyGroup);
    for (let c = 0; c < dim; c++) {
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let t = t0; t < t1; t++) {
        const x = keys[t * dim + c] as number;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      const scale = Math.fround((hi - lo) / levels);
      keyScale[gi * dim + c] = scale;
      keyMin[gi * dim + c] = lo;
      for (let t = t0; t < t1; t++) writeCode(keyCodes, t * rowBytes, c, bits, code(keys[t * dim + c] as number, lo, scale, levels));
    }
  }
  for (let t = 0; t < length; t++) {
    for (let gi = 0; gi < valueGroups; gi++) {
      const c0 = gi * valueGroup;
      const c1 = Math.min(dim, c0 + valueGroup);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (let c = c0; c < c1; c++) {
        const x = values[t * dim + c] as number;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
      const scale = Math.fround((hi - lo) / levels);
      valueScale[t * valueGroups + gi] = scale;
      valueMin[t * valueGroups + gi] = lo;
      for (let c = c0; c < c1; c++) writeCode(valueCodes, t * rowBytes, c, bits, code(values[t * dim + c] as number, lo, scale, levels));
    }
  }
  return Object.freeze({ bits, length, dim, keyGroup, valueGroup, keyCodes, keyScale, keyMin, valueCodes, valueScale, valueMin });
}

function code(x: number, lo: number, scale: number, levels: number): number {
  if (scale === 0) return 0;
  return Math.max(0, Math.min(levels, Math.round((x - lo) / scale)));
}

function writeCode(codes: Uint8Array, rowStart: number, c: number, bits: number, value: number): void {
  const bit = c * bits;
  const at = rowStart + (bit >> 3);
  codes[at] = (codes[at] as number) | (value << (bit & 7));
}

/** The code of channel c of a token whose codes start at byte rowStart. */
export function readCode(codes: Uint8Array, rowStart: number, c: number, bits: PackedBits): number {
  const bit = c * bits;
  return ((codes[rowStart + (bit >> 3)] as number) >> (bit & 7)) & ((1 << bits) - 1);
}

/**
 * The float32 keys and values a block stands for, [length × dim] each: code · scale + min rounded to float32, the
 * values every backend must attend over.
 */
export function unpackKvBlock(block: PackedKvBlock): { keys: Float32Array; values: Float32Array } {
  const keys = new Float32Array(block.length * block.dim);
  const values = new Float32Array(block.length * block.dim);
  for (let t = 0; t < block.length; t++) unpackKvRow(block, t, keys, values, t * block.dim);
  return { keys, values };
}

/**
 * Dequantises token t of a block into keys[at, at + dim) and values[at, at + dim): what `unpackKvBlock` gives for that
 * token, for callers that need a few rows of a long block (a selection over a packed cache).
 */
export function unpackKvRow(block: PackedKvBlock, t: number, keys: Float32Array, values: Float32Array, at: number): void {
  const { dim, bits, keyGroup, valueGroup } = block;
  const rowStart = t * packedRowBytes(dim, bits);
  const kg = Math.floor(t / keyGroup) * dim;
  const vg0 = t * Math.ceil(dim / valueGroup);
  for (let c = 0; c < dim; c++) {
    keys[at + c] = Math.fround(
      readCode(block.keyCodes, rowStart, c, bits) * (block.keyScale[kg + c] as number) + (block.keyMin[kg + c] as number),
    );
    const vg = vg0 + Math.floor(c / valueGroup);
    values[at + c] = Math.fround(
      readCode(block.valueCodes, rowStart, c, bits) * (block.valueScale[vg] as number) + (block.valueMin[vg] as number),
    );
  }
}

/** Every slot of one head as float32 rows: its blocks dequantised, then its full-precision rows. */
export function unpackKvHead(head: PackedKvHead, dim: number): { keys: Float32Array; values: Float32Array; length: number } {
  const length = packedHeadLength(head, dim);
  const keys = new Float32Array(length * dim);
  const values = new Float32Array(length * dim);
  let at = 0;
  for (const block of head.blocks) {
    const u = unpackKvBlock(block);
    keys.set(u.keys, at);
    values.set(u.values, at);
    at += block.length * dim;
  }
  keys.set(head.keys, at);
  values.set(head.values, at);
  return { keys, values, length };
}

function expectBits(bits: unknown): PackedBits {
  if (bits !== 2 && bits !== 4 && bits !== 8) {
    throw new SparselandError('E_PARAMS', `packed KV bits must be 2, 4 or 8, got ${describeValue(bits)}`);
  }
  return bits;
}

/**
 * Checks a packed cache's structure (array types and sizes, group sizes, finite scales) once at a public
 * boundary; kernels trust it afterwards. Throws E_SHAPE naming the head and block.
 */
export function expectPackedKvCache(cache: PackedKvCache, what = 'packed cache'): void {
  const fail = (msg: string): never => {
    throw new SparselandError('E_SHAPE', `${what}: ${msg}`);
  };
  if (typeof cache !== 'object' || cache === null) fail(`expected {kvHeads, dim, heads}, got ${describeValue(cache)}`);
  const kvHeads = cache.kvHeads;
  const dim = cache.dim;
  if (!Number.isInteger(kvHeads) || kvHeads < 1 || kvHeads > LIMITS.heads)
    fail(`kvHeads must be an integer in [1, ${LIMITS.heads}], got ${describeValue(kvHeads)}`);
  if (!Number.isInteger(dim) || dim < 1 || dim > LIMITS.dim)
    fail(`dim must be an integer in [1, ${LIMITS.dim}], got ${describeValue(dim)}`);
  if (!Array.isArray(cache.heads) || cache.heads.length !== kvHeads)
    fail(`heads must be an array of ${kvHeads} entries, got ${describeValue(cache.heads)}`);
  cache.heads.forEach((head, g) => {
    if (typeof head !== 'object' || head === null) fail(`head ${g} must be {blocks, keys, values}, got ${describeValue(head)}`);
    if (!(head.keys instanceof Float32Array) || !(head.values instanceof Float32Array))
      fail(`head ${g}: keys and values must be Float32Arrays`);
    if (head.keys.length % dim !== 0 || head.values.length !== head.keys.length) {
      fail(
        `head ${g}: keys and values must hold the same whole number of rows of ${dim}, got ${head.keys.length} and ${head.values.length} values`,
      );
    }
    if (!Array.isArray(head.blocks)) fail(`head ${g}: blocks must be an array`);
    let total = head.keys.length / dim;
    head.blocks.forEach((b, i) => {
      const where = `head ${g} block ${i}`;
      if (typeof b !== 'object' || b === null) fail(`${where} must be a PackedKvBlock, got ${describeValue(b)}`);
      if (b.bits !== 2 && b.bits !== 4 && b.bits !== 8) fail(`${where}: bits must be 2, 4 or 8, got ${describeValue(b.bits)}`);
      if (b.dim !== dim) fail(`${where}: dim ${describeValue(b.dim)} differs from the cache's ${dim}`);
      if (!Number.isInteger(b.length) || b.length < 0) fail(`${where}: length must be an integer >= 0, got ${describeValue(b.length)}`);
      if (!Number.isInteger(b.keyGroup) || b.keyGroup < 1)
        fail(`${where}: keyGroup must be an integer >= 1, got ${describeValue(b.keyGroup)}`);
      if (!Number.isInteger(b.valueGroup) || b.valueGroup < 1 || b.valueGroup > dim) {
        fail(`${where}: valueGroup must be an integer in [1, ${dim}], got ${describeValue(b.valueGroup)}`);
      }
      const rowBytes = packedRowBytes(dim, b.bits);
      const keyGroups = Math.ceil(b.length / b.keyGroup);
      const valueGroups = Math.ceil(dim / b.valueGroup);
      const sized = (arr: unknown, type: typeof Uint8Array | typeof Float32Array, n: number, name: string): void => {
        if (!(arr instanceof type) || arr.length !== n) {
          fail(`${where}: ${name} must be a ${type.name} of ${n} entries, got ${describeValue(arr)}`);
        }
      };
      sized(b.keyCodes, Uint8Array, b.length * rowBytes, 'keyCodes');
      sized(b.valueCodes, Uint8Array, b.length * rowBytes, 'valueCodes');
      sized(b.keyScale, Float32Array, keyGroups * dim, 'keyScale');
      sized(b.keyMin, Float32Array, keyGroups * dim, 'keyMin');
      sized(b.valueScale, Float32Array, b.length * valueGroups, 'valueScale');
      sized(b.valueMin, Float32Array, b.length * valueGroups, 'valueMin');
      for (const arr of [b.keyScale, b.keyMin, b.valueScale, b.valueMin]) {
        for (const x of arr) if (!Number.isFinite(x)) fail(`${where}: scales and mins must be finite, got ${x}`);
      }
      total += b.length;
    });
    if (total > LIMITS.length) fail(`head ${g} holds ${total} slots, more than the limit of ${LIMITS.length}`);
  });
}
