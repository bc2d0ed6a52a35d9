import { SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';

/** `scheme://...`, `data:`, `blob:`: fetched; anything else is a file path (Node only). */
const URL_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/|data:|blob:)/i;

/** The largest file the loaders read (a Float32Array of the weights must fit one JavaScript engine's heap). */
export const MAX_MODEL_FILE_BYTES = 2 ** 31 - 1;

export interface LoadBytesOptions {
  /** Refuse files larger than this (default MAX_MODEL_FILE_BYTES). */
  readonly maxBytes?: number;
  /** Bytes of the head to check before reading the rest (default 256). */
  readonly headBytes?: number;
  /**
   * Checks the first `headBytes` bytes (fewer if the file is shorter) against the file's total size before the
   * rest is read: a file with a bad header or the wrong size is refused without reading it whole. Throws to refuse.
   */
  readonly checkHead?: (head: Uint8Array, totalBytes: number) => void;
}

/**
 * Reads a whole file, bounded. In Node: a URL through `fetch`, a `file:` URL or a plain path through
 * `node:fs/promises` (imported lazily and only for paths, so browser bundles never include it); a path must be a
 * regular file (not a device such as /dev/zero, a FIFO or a directory), no larger than `maxBytes`, and its head is
 * checked before the rest is read. Without Node (browsers, workers): every string is fetched, relative ones against
 * the page, with the same limit (from Content-Length when the server sends one, else while streaming).
 */
export async function loadBytes(source: string | URL, what: string, options: LoadBytesOptions = {}): Promise<Uint8Array> {
  const text = source instanceof URL ? source.href : source;
  if (typeof text !== 'string' || text.length === 0) {
    throw new SparselandError('E_PARAMS', `${what}: expected a file path or a URL, got ${describeValue(source)}`);
  }
  const maxBytes = options.maxBytes ?? MAX_MODEL_FILE_BYTES;
  const isFileUrl = text.toLowerCase().startsWith('file:');
  if (URL_LIKE.test(text) && !isFileUrl) return fetchBytes(text, what, maxBytes, options);
  const fs = await nodeFs();
  if (!fs) {
    // No file system (a browser, a worker): a relative or absolute path is a URL of the page's origin.
    if (!isFileUrl) return fetchBytes(text, what, maxBytes, options);
    throw new SparselandError('E_PARAMS', `${what}: "${text}" is a file: URL, which needs Node's file system; serve the file over http(s)`);
  }
  const path = isFileUrl ? new URL(text) : text;
  let handle: NodeFileHandle;
  try {
    handle = await fs.open(path, 'r');
  } catch (error) {
    throw new SparselandError('E_PARAMS', `${what}: cannot read "${text}": ${(error as Error).message}`, { path: text });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new SparselandError(
        'E_PARAMS',
        `${what}: "${text}" is not a regular file (${fileKind(stat)}); expected a model or tokenizer file`,
        {
          path: text,
        },
      );
    }
    const size = stat.size;
    expectWithinLimit(size, maxBytes, what, text);
    // The head first, into a small buffer: the file's own size is allocated only once its header agrees with it.
    const head = new Uint8Array(Math.min(size, options.headBytes ?? 256));
    await readFully(handle, head, 0, head.length, what, text);
    options.checkHead?.(head, size);
    const bytes = new Uint8Array(size);
    bytes.set(head);
    await readFully(handle, bytes, head.length, size, what, text);
    return bytes;
  } finally {
    await handle.close();
  }
}

function expectWithinLimit(size: number, maxBytes: number, what: string, source: string): void {
  if (size > maxBytes) {
    throw new SparselandError('E_PARAMS', `${what}: "${source}" has ${size} bytes, more than the limit of ${maxBytes} bytes`, {
      size,
      limit: maxBytes,
    });
  }
}

async function readFully(handle: NodeFileHandle, into: Uint8Array, from: number, to: number, what: string, path: string): Promise<void> {
  let at = from;
  while (at < to) {
    const { bytesRead } = await handle.read(into, at, to - at, at);
    if (bytesRead === 0) throw new SparselandError('E_PARAMS', `${what}: "${path}" became shorter while it was read`, { path });
    at += bytesRead;
  }
}

function fileKind(stat: NodeStats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isFIFO()) return 'a pipe';
  if (stat.isSocket()) return 'a socket';
  return 'not a plain file';
}

async function fetchBytes(url: string, what: string, maxBytes: number, options: LoadBytesOptions): Promise<Uint8Array> {
  if (typeof fetch !== 'function') throw new SparselandError('E_PARAMS', `${what}: this runtime has no fetch() to load "${url}"`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new SparselandError('E_PARAMS', `${what}: cannot fetch "${url}": ${(error as Error).message}`, { url });
  }
  if (!response.ok) throw new SparselandError('E_PARAMS', `${what}: fetching "${url}" gave HTTP ${response.status}`, { url });
  const announced = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(announced)) expectWithinLimit(announced, maxBytes, what, url);
  const bytes = await readBody(response, maxBytes, what, url);
  const headLength = Math.min(bytes.byteLength, options.headBytes ?? 256);
  options.checkHead?.(bytes.subarray(0, headLength), bytes.byteLength);
  return bytes;
}

/** Reads a response body, stopping with an error as soon as it passes `maxBytes`. */
async function readBody(response: Response, maxBytes: number, what: string, url: string): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      expectWithinLimit(total, maxBytes, what, url);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

interface NodeStats {
  readonly size: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
}

interface NodeFileHandle {
  stat(): Promise<NodeStats>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

interface NodeFs {
  open(path: string | URL, flags: string): Promise<NodeFileHandle>;
}

async function nodeFs(): Promise<NodeFs | undefined> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) return undefined;
  // A computed specifier keeps bundlers from trying to resolve (or polyfill) the Node module for browsers.
  const specifier = ['node:fs', 'promises'].join('/');
  try {
    return (await import(/* @vite-ignore */ specifier)) as NodeFs;
  } catch {
    return undefined;
  }
}
