import { SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';

/** What the parsers accept: the bytes of a file, from `fs.readFile`, `fetch(...).arrayBuffer()` or a File. */
export type BinaryInput = Uint8Array | ArrayBuffer;

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The input as a Uint8Array (no copy), or E_PARAMS when it is neither a Uint8Array nor an ArrayBuffer. */
export function asBytes(input: BinaryInput, what: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (typeof SharedArrayBuffer !== 'undefined' && (input as unknown) instanceof SharedArrayBuffer) {
    return new Uint8Array(input as unknown as SharedArrayBuffer);
  }
  throw new SparselandError(
    'E_PARAMS',
    `${what} must be a Uint8Array or an ArrayBuffer with the file's bytes, got ${describeValue(input)}`,
  );
}

/**
 * Bytes whose start is 4-byte aligned, so Float32Array views over them work. Copies (once, the file's size) only
 * when the caller handed a misaligned slice of a bigger buffer.
 */
export function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
}

/**
 * `count` little-endian float32 values at `byteOffset` (which the caller keeps 4-aligned): a view on
 * little-endian machines (every common one), a converted copy otherwise.
 */
export function float32At(bytes: Uint8Array, byteOffset: number, count: number): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(bytes.buffer, bytes.byteOffset + byteOffset, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + byteOffset, count * 4);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** A little-endian DataView over `bytes`. */
export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** 1056540 → "1,056,540": byte counts in messages people read. */
export function formatCount(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
