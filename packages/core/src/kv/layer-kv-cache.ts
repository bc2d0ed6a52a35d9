import { describeValue, SparselandError } from '../errors.js';
import type { KvCacheLayer } from '../kv-policy.js';
import { TokenSelection } from '../masks/token-selection.js';
import type { HeadTensor } from '../tensor/head-tensor.js';
import {
  type PackedKvBlock,
  type PackedKvCache,
  type PackOptions,
  packedBlockBytes,
  packKvBlock,
  unpackKvBlock,
  unpackKvRow,
} from './packed-kv.js';

/** Reusable buffers for `gather` (start with empty arrays). */
export interface GatherScratch {
  k: Float32Array;
  v: Float32Array;
}

/** One kv head's storage: packed blocks (oldest first), then full-precision rows; positions cover every slot. */
interface HeadStore {
  blocks: PackedKvBlock[];
  /** Slots held in blocks: they are slots [0, packed). */
  packed: number;
  /** Full-precision rows [0, rows) with room for more. */
  keys: Float32Array;
  values: Float32Array;
  rows: number;
  positions: Int32Array;
  /** Dequantised keys and values of every slot, while the head holds packed slots and nothing changed. */
  unpacked: { keys: Float32Array; values: Float32Array } | undefined;
  /** Bumped whenever the head's slots change other than by appending (retain, pack). */
  revision: number;
}

/**
 * One layer's KV cache, the implementation of `KvCacheLayer` the model runtime and the conformance kit use: separate
 * growable storage per kv head, so a KV policy can keep a different number of slots per head and really free the
 * memory. A head's slots are its packed low-bit blocks first
 * (KIVI-style, made by `pack`), then its full-precision rows in the order they were written; `positions(g)` says
 * which token each slot holds.
 */
export class LayerKvCache implements KvCacheLayer {
  readonly layer: number;
  readonly kvHeads: number;
  readonly dim: number;
  private readonly heads: HeadStore[];
  /** Tokens written so far (whatever was evicted since). */
  private writtenCount = 0;

  constructor(layer: number, kvHeads: number, dim: number, initialCapacity = 64) {
    this.layer = layer;
    this.kvHeads = kvHeads;
    this.dim = dim;
    const capacity = Math.max(1, initialCapacity);
    this.heads = Array.from({ length: kvHeads }, () => ({
      blocks: [],
      packed: 0,
      keys: new Float32Array(capacity * dim),
      values: new Float32Array(capacity * dim),
      rows: 0,
      positions: new Int32Array(capacity),
      unpacked: undefined,
      revision: 0,
    }));
  }

  length(g: number): number {
    const head = this.head(g);
    return head.packed + head.rows;
  }

  written(): number {
    return this.writtenCount;
  }

  /**
   * Changes whenever kv head g's slots change other than by appending (retain, pack): a copy that only saw appends
   * since it read this number (the backend's KV store a session decodes from) must then be rewritten.
   */
  revision(g: number): number {
    return this.head(g).revision;
  }

  packedLength(g: number): number {
    return this.head(g).packed;
  }

  keys(g: number): Float32Array {
    const head = this.head(g);
    if (head.packed === 0) return head.keys.subarray(0, head.rows * this.dim);
    return this.unpack(head).keys;
  }

  values(g: number): Float32Array {
    const head = this.head(g);
    if (head.packed === 0) return head.values.subarray(0, head.rows * this.dim);
    return this.unpack(head).values;
  }

  positions(g: number): Int32Array {
    const head = this.head(g);
    return head.positions.subarray(0, head.packed + head.rows);
  }

  retain(g: number, slots: Int32Array): void {
    const head = this.head(g);
    const length = head.packed + head.rows;
    this.expectSlots(g, slots, 0, length, 'retain');
    const d = this.dim;
    const positions = head.positions;
    // Packed slots: blocks keep their kept tokens (re-packed when some were dropped).
    let p = 0;
    if (head.packed > 0) {
      const blocks: PackedKvBlock[] = [];
      let start = 0;
      for (const block of head.blocks) {
        const end = start + block.length;
        const kept: number[] = [];
        while (p < slots.length && (slots[p] as number) < end) kept.push((slots[p++] as number) - start);
        if (kept.length === block.length) blocks.push(block);
        else if (kept.length > 0) blocks.push(repack(block, kept));
        start = end;
      }
      head.blocks = blocks;
    }
    const packedKept = p;
    for (let i = 0; i < packedKept; i++) positions[i] = positions[slots[i] as number] as number;
    // Full-precision slots: compact the rows.
    for (let i = packedKept; i < slots.length; i++) {
      const s = slots[i] as number;
      const from = s - head.packed;
      const to = i - packedKept;
      positions[i] = positions[s] as number;
      if (from === to) continue;
      head.keys.copyWithin(to * d, from * d, (from + 1) * d);
      head.values.copyWithin(to * d, from * d, (from + 1) * d);
    }
    head.packed = packedKept;
    head.rows = slots.length - packedKept;
    head.unpacked = undefined;
    head.revision++;
    // Give memory back when most of it is now unused: eviction should shrink the cache for real.
    this.shrink(head);
  }

  pack(g: number, slots: Int32Array, options: PackOptions): void {
    const head = this.head(g);
    this.expectSlots(g, slots, head.packed, head.packed + head.rows, 'pack');
    const d = this.dim;
    const n = slots.length;
    if (n === 0) return;
    const keys = new Float32Array(n * d);
    const values = new Float32Array(n * d);
    const moved = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const row = (slots[i] as number) - head.packed;
      keys.set(head.keys.subarray(row * d, (row + 1) * d), i * d);
      values.set(head.values.subarray(row * d, (row + 1) * d), i * d);
      moved[i] = head.positions[slots[i] as number] as number;
    }
    head.blocks.push(packKvBlock(keys, values, n, d, options));
    // Remaining full-precision rows and their positions, compacted after the new block.
    const rest = new Int32Array(head.rows - n);
    let r = 0;
    let next = 0;
    for (let row = 0; row < head.rows; row++) {
      if (next < n && (slots[next] as number) - head.packed === row) {
        next++;
        continue;
      }
      if (r !== row) {
        head.keys.copyWithin(r * d, row * d, (row + 1) * d);
        head.values.copyWithin(r * d, row * d, (row + 1) * d);
      }
      rest[r++] = head.positions[head.packed + row] as number;
    }
    head.positions.set(moved, head.packed);
    head.positions.set(rest, head.packed + n);
    head.packed += n;
    head.rows -= n;
    head.unpacked = undefined;
    head.revision++;
    this.shrink(head);
  }

  packedView(): PackedKvCache {
    const d = this.dim;
    return {
      kvHeads: this.kvHeads,
      dim: d,
      heads: this.heads.map((h) => ({ blocks: h.blocks, keys: h.keys.subarray(0, h.rows * d), values: h.values.subarray(0, h.rows * d) })),
    };
  }

  bytes(): number {
    let bytes = 0;
    for (const h of this.heads) {
      bytes += h.rows * this.dim * 2 * Float32Array.BYTES_PER_ELEMENT + (h.packed + h.rows) * Int32Array.BYTES_PER_ELEMENT;
      for (const b of h.blocks) bytes += packedBlockBytes(b);
    }
    return bytes;
  }

  /** Bytes of the arrays this layer has allocated (capacity included), beside `bytes()`, what it holds. */
  allocatedBytes(): number {
    let bytes = 0;
    for (const h of this.heads) {
      bytes += h.keys.byteLength + h.values.byteLength + h.positions.byteLength;
      for (const b of h.blocks) bytes += packedBlockBytes(b);
    }
    return bytes;
  }

  /** Tokens written to this layer so far (evicted ones included). */
  get tokensWritten(): number {
    return this.writtenCount;
  }

  /** True while every head holds every token written so far, in order and in full precision: slot i is position i. */
  isPositional(): boolean {
    for (const h of this.heads) if (h.packed > 0 || h.rows !== this.writtenCount) return false;
    return true;
  }

  /** True when some head holds packed slots. */
  hasPacked(): boolean {
    return this.heads.some((h) => h.packed > 0);
  }

  /** Slots held by the longest head. */
  maxLength(): number {
    let max = 0;
    for (const h of this.heads) max = Math.max(max, h.packed + h.rows);
    return max;
  }

  /** Appends the keys and values [kvHeads, count, dim] of tokens at positions start..start+count-1. */
  append(k: HeadTensor, v: HeadTensor, start: number): void {
    const count = k.length;
    const d = this.dim;
    this.heads.forEach((head, g) => {
      const length = head.packed + head.rows;
      const rowsCap = head.keys.length / d;
      if (head.rows + count > rowsCap || length + count > head.positions.length) {
        this.resize(
          head,
          head.rows + count > rowsCap ? Math.max(head.rows + count, 2 * rowsCap) : rowsCap,
          length + count > head.positions.length ? Math.max(length + count, 2 * head.positions.length) : head.positions.length,
        );
      }
      const from = g * count * d;
      head.keys.set(k.data.subarray(from, from + count * d), head.rows * d);
      head.values.set(v.data.subarray(from, from + count * d), head.rows * d);
      for (let t = 0; t < count; t++) head.positions[length + t] = start + t;
      head.rows += count;
      head.unpacked = undefined;
    });
    this.writtenCount += count;
  }

  /**
   * Keys and values of every head as HeadTensors [kvHeads, width, dim], width = the longest head; shorter heads are
   * zero-padded at the end (callers mask the padding out). Packed slots are dequantised. With a `scratch`, the
   * result lives in its buffers (grown or shrunk as needed, valid until the scratch is used again): a session decodes
   * every layer through one scratch, since fresh multi-megabyte arrays every step cost more in garbage collection
   * than the copy itself.
   */
  gather(width = this.maxLength(), options: { readonly scratch?: GatherScratch } = {}): { k: HeadTensor; v: HeadTensor } {
    const d = this.dim;
    const size = this.kvHeads * width * d;
    let k: Float32Array;
    let v: Float32Array;
    const scratch = options.scratch;
    if (scratch) {
      // Grow geometrically; shrink when the caches did (eviction), so the scratch follows what is held.
      if (scratch.k.length < size || scratch.k.length > 4 * size + 4096) {
        const capacity = Math.max(size, Math.min(2 * size, scratch.k.length * 2));
        scratch.k = new Float32Array(capacity);
        scratch.v = new Float32Array(capacity);
      }
      k = scratch.k.subarray(0, size);
      v = scratch.v.subarray(0, size);
    } else {
      k = new Float32Array(size);
      v = new Float32Array(size);
    }
    for (let g = 0; g < this.kvHeads; g++) {
      const keys = this.keys(g);
      k.set(keys, g * width * d);
      v.set(this.values(g), g * width * d);
      if (scratch && keys.length < width * d) {
        k.fill(0, g * width * d + keys.length, (g + 1) * width * d);
        v.fill(0, g * width * d + keys.length, (g + 1) * width * d);
      }
    }
    return {
      k: { data: k, heads: this.kvHeads, length: width, dim: d },
      v: { data: v, heads: this.kvHeads, length: width, dim: d },
    };
  }

  /**
   * Keys and values of only the selected slots of each head, [kvHeads, width, dim] with width = the largest
   * selection (shorter heads zero-padded), and the selection over these compact rows (undefined when every head
   * selected the same number of slots). Decoding through it reads what decoding the whole cache through `selection`
   * reads, for O(selected) copying instead of O(cache).
   */
  gatherSelected(selection: TokenSelection): { k: HeadTensor; v: HeadTensor; selection: TokenSelection | undefined } {
    const d = this.dim;
    let width = 0;
    for (let g = 0; g < this.kvHeads; g++) width = Math.max(width, selection.slotsOf(g).length);
    const k = new Float32Array(this.kvHeads * width * d);
    const v = new Float32Array(this.kvHeads * width * d);
    let ragged = false;
    for (let g = 0; g < this.kvHeads; g++) {
      const slots = selection.slotsOf(g);
      if (slots.length !== width) ragged = true;
      const head = this.heads[g] as HeadStore;
      // Packed slots are dequantised one selected row at a time (slots increase, so the block pointer only moves
      // forward); runs of full-precision slots (Quest's pages, windows) are copied with one native copy each.
      let block = 0;
      let blockStart = 0;
      for (let i = 0; i < slots.length; ) {
        const s = slots[i] as number;
        if (s < head.packed) {
          while (s >= blockStart + (head.blocks[block] as PackedKvBlock).length)
            blockStart += (head.blocks[block++] as PackedKvBlock).length;
          unpackKvRow(head.blocks[block] as PackedKvBlock, s - blockStart, k, v, (g * width + i) * d);
          i++;
          continue;
        }
        let j = i + 1;
        while (j < slots.length && (slots[j] as number) === (slots[j - 1] as number) + 1) j++;
        const from = (s - head.packed) * d;
        const to = (g * width + i) * d;
        k.set(head.keys.subarray(from, from + (j - i) * d), to);
        v.set(head.values.subarray(from, from + (j - i) * d), to);
        i = j;
      }
    }
    // Per-slot precisions travel with the rows; padding needs a selection too.
    let compact: TokenSelection | undefined;
    if (ragged || selection.precision) {
      const slots = new Int32Array(selection.slots.length);
      for (let g = 0; g < this.kvHeads; g++) {
        const from = selection.rowPtr[g] as number;
        for (let i = from; i < (selection.rowPtr[g + 1] as number); i++) slots[i] = i - from;
      }
      compact = new TokenSelection({
        kvHeads: this.kvHeads,
        kvLength: width,
        rowPtr: selection.rowPtr,
        slots,
        precision: selection.precision,
      });
    }
    return {
      k: { data: k, heads: this.kvHeads, length: width, dim: d },
      v: { data: v, heads: this.kvHeads, length: width, dim: d },
      selection: compact,
    };
  }

  private unpack(head: HeadStore): { keys: Float32Array; values: Float32Array } {
    if (head.unpacked) return head.unpacked;
    const d = this.dim;
    const n = head.packed + head.rows;
    const keys = new Float32Array(n * d);
    const values = new Float32Array(n * d);
    let at = 0;
    for (const block of head.blocks) {
      const u = unpackKvBlock(block);
      keys.set(u.keys, at);
      values.set(u.values, at);
      at += block.length * d;
    }
    keys.set(head.keys.subarray(0, head.rows * d), at);
    values.set(head.values.subarray(0, head.rows * d), at);
    head.unpacked = { keys, values };
    return head.unpacked;
  }

  /** Reallocates the full-precision rows to `rows` rows and the positions to `slots` entries (grow or shrink). */
  private resize(head: HeadStore, rows: number, slots = rows): void {
    const d = this.dim;
    if (rows * d !== head.keys.length) {
      const keys = new Float32Array(rows * d);
      keys.set(head.keys.subarray(0, head.rows * d));
      const values = new Float32Array(rows * d);
      values.set(head.values.subarray(0, head.rows * d));
      head.keys = keys;
      head.values = values;
    }
    if (slots !== head.positions.length) {
      const positions = new Int32Array(slots);
      positions.set(head.positions.subarray(0, head.packed + head.rows));
      head.positions = positions;
    }
  }

  /**
   * Gives unused storage back once less than half of it is used (after eviction or packing), keeping a quarter of
   * slack so the steady state of an evicting policy (append one, evict one) does not reallocate every step.
   */
  private shrink(head: HeadStore): void {
    const capacity = head.keys.length / this.dim;
    const slots = head.packed + head.rows;
    const withSlack = (used: number) => Math.max(64, Math.ceil(used * 1.25) + 16);
    const rowsCap = head.rows * 2 < capacity && capacity > 64 ? withSlack(head.rows) : capacity;
    const slotsCap = slots * 2 < head.positions.length && head.positions.length > 64 ? withSlack(slots) : head.positions.length;
    this.resize(head, rowsCap, slotsCap);
  }

  private expectSlots(g: number, slots: Int32Array, lo: number, hi: number, what: string): void {
    if (!(slots instanceof Int32Array)) {
      throw new SparselandError(
        'E_PARAMS',
        `${what}(): slots must be an Int32Array of strictly increasing slots, got ${describeValue(slots)}`,
      );
    }
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as number;
      if (s < lo || s >= hi || (i > 0 && s <= (slots[i - 1] as number))) {
        throw new SparselandError(
          'E_PARAMS',
          `${what}(): slots of kv head ${g} in layer ${this.layer} must be strictly increasing in [${lo}, ${hi}), got ${s} at index ${i}`,
        );
      }
    }
  }

  private head(g: number): HeadStore {
    if (!Number.isInteger(g) || g < 0 || g >= this.kvHeads) {
      throw new SparselandError('E_PARAMS', `kv head must be an integer in [0, ${this.kvHeads}), got ${describeValue(g)}`);
    }
    return this.heads[g] as HeadStore;
  }
}

/** A block holding only the `kept` tokens (indices into the block) of `block`, re-quantised with its settings. */
function repack(block: PackedKvBlock, kept: readonly number[]): PackedKvBlock {
  const d = block.dim;
  const { keys, values } = unpackKvBlock(block);
  const k = new Float32Array(kept.length * d);
  const v = new Float32Array(kept.length * d);
  kept.forEach((t, i) => {
    k.set(keys.subarray(t * d, (t + 1) * d), i * d);
    v.set(values.subarray(t * d, (t + 1) * d), i * d);
  });
  return packKvBlock(k, v, kept.length, d, { bits: block.bits, keyGroup: block.keyGroup, valueGroup: block.valueGroup });
}
