import { SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';

/** `scheme://...`, `data:`, `blob:`: fetched; anything else is a file path (Node only). */
const URL_LIKE = /^(?:[a-z][a-z0-9+.-]*:\/\/|data:|blob:)/i;

/**
 * Reads a whole file. In Node: a URL through `fetch`, a `file:` URL or a plain path through `node:fs/promises`,
 * imported lazily and only for paths, so browser bundles never include it. Without Node (browsers, workers): every
 * string is fetched, relative ones against the page.
 */
export async function loadBytes(source: string | URL, what: string): Promise<Uint8Array> {
  const text = source instanceof URL ? source.href : source;
  if (typeof text !== 'string' || text.length === 0) {
    throw new SparselandError('E_PARAMS', `${what}: expected a file path or a URL, got ${describeValue(source)}`);
  }
  const isFileUrl = text.toLowerCase().startsWith('file:');
  if (URL_LIKE.test(text) && !isFileUrl) return fetchBytes(text, what);
  const fs = await nodeFs();
  if (!fs) {
    // No file system (a browser, a worker): a relative or absolute path is a URL of the page's origin.
    if (!isFileUrl) return fetchBytes(text, what);
    throw new SparselandError('E_PARAMS', `${what}: "${text}" is a file: URL, which needs Node's file system; serve the file over http(s)`);
  }
  const path = text.toLowerCase().startsWith('file:') ? new URL(text) : text;
  try {
    const buffer = await fs.readFile(path);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    throw new SparselandError('E_PARAMS', `${what}: cannot read "${text}": ${(error as Error).message}`, { path: text });
  }
}

async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  if (typeof fetch !== 'function') throw new SparselandError('E_PARAMS', `${what}: this runtime has no fetch() to load "${url}"`);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new SparselandError('E_PARAMS', `${what}: cannot fetch "${url}": ${(error as Error).message}`, { url });
  }
  if (!response.ok) throw new SparselandError('E_PARAMS', `${what}: fetching "${url}" gave HTTP ${response.status}`, { url });
  return new Uint8Array(await response.arrayBuffer());
}

interface NodeFs {
  readFile(path: string | URL): Promise<Uint8Array>;
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
