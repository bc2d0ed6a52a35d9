import { SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';
import { expectGateConfig, type GateConfig, type GateTensor, type GateWeights } from './gate-weights.js';

// Gate weights live in HDF5 files written and read by h5wasm (the HDF5 C library compiled to WebAssembly, the same
// code in Node and browsers): one float32 dataset per tensor, named as the tensors are (`layers.0.q_proj`), the
// config as attributes of the root group (`config.kind`, `config.hidden`, ...) and free-form metadata as `meta.*`
// attributes. Python reads them with h5py: `h5py.File(path)['layers.0.q_proj'][...]`.

type H5 = typeof import('h5wasm');
let h5:
  | Promise<{
      lib: H5['default'];
      FS: { writeFile(p: string, d: Uint8Array): void; readFile(p: string): Uint8Array; unlink(p: string): void };
    }>
  | undefined;

function loadH5() {
  h5 ??= (async () => {
    const lib = (await import('h5wasm')).default;
    const { FS } = await lib.ready;
    return { lib, FS: FS as never };
  })();
  return h5;
}

let fileCounter = 0;
/** The 8 bytes every HDF5 file written here starts with. */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const CONFIG_KEYS: readonly (keyof GateConfig)[] = ['kind', 'layers', 'heads', 'kvHeads', 'dim', 'hidden', 'blockSize'];

/** The weights as the bytes of an HDF5 file. */
export async function encodeGateWeights(weights: GateWeights): Promise<Uint8Array> {
  const config = expectGateConfig(weights?.config);
  const { lib, FS } = await loadH5();
  const path = `/sparseland-gate-${fileCounter++}.h5`;
  const file = new lib.File(path, 'w');
  try {
    for (const key of CONFIG_KEYS) file.create_attribute(`config.${key}`, config[key] as never);
    for (const [key, value] of Object.entries(weights.meta ?? {})) file.create_attribute(`meta.${key}`, String(value));
    for (const name of Object.keys(weights.tensors).sort()) {
      const t = weights.tensors[name] as GateTensor;
      file.create_dataset({ name, data: t.data, shape: [...t.shape], dtype: '<f' });
    }
  } finally {
    file.close();
  }
  const bytes = FS.readFile(path);
  FS.unlink(path);
  return bytes.slice();
}

/** Reads weights from the bytes of an HDF5 file written by encodeGateWeights (or by h5py with the same layout). */
export async function decodeGateWeights(bytes: Uint8Array): Promise<GateWeights> {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8) {
    throw new SparselandError('E_MODEL_FORMAT', `gate weights: expected the bytes of an HDF5 file, got ${describeValue(bytes)}`);
  }
  if (!HDF5_SIGNATURE.every((b, i) => bytes[i] === b)) {
    throw new SparselandError('E_MODEL_FORMAT', 'gate weights: not a readable HDF5 file (no HDF5 signature at byte 0)');
  }
  const { lib, FS } = await loadH5();
  const path = `/sparseland-gate-${fileCounter++}.h5`;
  FS.writeFile(path, bytes);
  let file: InstanceType<H5['default']['File']>;
  try {
    file = new lib.File(path, 'r');
  } catch (error) {
    FS.unlink(path);
    throw new SparselandError('E_MODEL_FORMAT', `gate weights: not a readable HDF5 file (${(error as Error).message})`);
  }
  try {
    const attrs = file.attrs as Record<string, { value: unknown }>;
    const raw: Record<string, unknown> = {};
    for (const key of CONFIG_KEYS) {
      const v = attrs[`config.${key}`]?.value;
      raw[key] = typeof v === 'bigint' ? Number(v) : v;
    }
    const config = expectGateConfig(raw);
    const meta: Record<string, string> = {};
    for (const [key, attr] of Object.entries(attrs)) if (key.startsWith('meta.')) meta[key.slice(5)] = String(attr.value);
    const tensors: Record<string, GateTensor> = {};
    for (const name of file.keys()) {
      const ds = file.get(name) as { shape: number[] | null; value: unknown };
      const value = ds.value;
      const data = value instanceof Float32Array ? value.slice() : value instanceof Float64Array ? Float32Array.from(value) : undefined;
      if (!data) throw new SparselandError('E_MODEL_FORMAT', `gate weights: dataset "${name}" is not floating point`);
      tensors[name] = { shape: ds.shape ?? [data.length], data };
    }
    return { config, tensors, meta };
  } catch (error) {
    if (error instanceof SparselandError) throw error;
    throw new SparselandError('E_MODEL_FORMAT', `gate weights: unreadable HDF5 content (${String((error as Error)?.message ?? error)})`);
  } finally {
    file.close();
    FS.unlink(path);
  }
}

const cache = new Map<string, Promise<GateWeights>>();

/**
 * Loads gate weights from a path (Node) or a URL (`http(s):`, `file:`, `blob:`, `data:`; fetched), once per source
 * per process: estimators name their weights by a string, so recipes stay plain JSON.
 */
export function loadGateWeights(source: string): Promise<GateWeights> {
  if (typeof source !== 'string' || source.length === 0) {
    throw new SparselandError('E_PARAMS', `gate weights: expected a file path or URL, got ${describeValue(source)}`);
  }
  let promise = cache.get(source);
  if (!promise) {
    promise = (async () => decodeGateWeights(await readSource(source)))();
    cache.set(source, promise);
    promise.catch(() => cache.delete(source));
  }
  return promise;
}

async function readSource(source: string): Promise<Uint8Array> {
  if (/^(https?|blob|data):/.test(source) || (source.startsWith('file:') && typeof process === 'undefined')) {
    const response = await fetch(source);
    if (!response.ok) throw new SparselandError('E_MODEL_FORMAT', `gate weights: fetching ${source} failed with HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }
  // A computed specifier keeps browser bundlers away from the Node module.
  const fs = (await import(/* @vite-ignore */ ['node:fs', 'promises'].join('/'))) as { readFile(p: string | URL): Promise<Uint8Array> };
  try {
    return new Uint8Array(await fs.readFile(source.startsWith('file:') ? new URL(source) : source));
  } catch (error) {
    throw new SparselandError('E_MODEL_FORMAT', `gate weights: cannot read ${source}: ${(error as Error).message}`);
  }
}
