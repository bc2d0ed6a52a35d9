import { WASM_KERNELS_BASE64, WASM_KERNELS_RELAXED_BASE64 } from '../generated/wasm-kernels.js';
import type { Kernels } from '../kernels.js';

/**
 * The two builds of assembly/kernels.ts: 'simd128' (WebAssembly SIMD128, separate multiply and add) and
 * 'relaxed' (the same source with relaxed SIMD: every multiply-add is an f32x4.relaxed_madd, an FMA where the CPU
 * has one).
 */
export type SimdVariant = 'relaxed' | 'simd128';

const modules = new Map<string, WebAssembly.Module>();

function decodeBase64(text: string): Uint8Array {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

/** The kernel bytes as shipped: they import a shared memory. */
export function kernelBytes(variant: SimdVariant = 'simd128'): Uint8Array {
  return decodeBase64(variant === 'relaxed' ? WASM_KERNELS_RELAXED_BASE64 : WASM_KERNELS_BASE64);
}

function moduleBytes(variant: SimdVariant, shared: boolean): Uint8Array {
  return shared ? kernelBytes(variant) : withUnsharedMemoryImport(kernelBytes(variant));
}

/**
 * The compiled kernels (compiled once per realm and variant, lazily: importing the package compiles nothing).
 * `shared: false` rewrites the memory import's limits flag so a plain (non-shared) memory can be used on pages that
 * are not cross-origin isolated.
 */
export function kernelModule(variant: SimdVariant, shared: boolean): WebAssembly.Module {
  const key = `${variant}/${shared}`;
  let module = modules.get(key);
  if (!module) {
    module = new WebAssembly.Module(moduleBytes(variant, shared) as BufferSource);
    modules.set(key, module);
  }
  return module;
}

export function instantiateKernels(module: WebAssembly.Module, memory: WebAssembly.Memory): Kernels {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return instance.exports as unknown as Kernels;
}

/**
 * Asynchronous compile and instantiate: browsers refuse synchronous compilation of larger modules on the main
 * thread, so the backend always takes this path (the module is cached for later synchronous use).
 */
export async function loadKernels(
  variant: SimdVariant,
  shared: boolean,
  memory: WebAssembly.Memory,
): Promise<{ module: WebAssembly.Module; kernels: Kernels }> {
  const key = `${variant}/${shared}`;
  let module = modules.get(key);
  if (!module) {
    module = await WebAssembly.compile(moduleBytes(variant, shared) as BufferSource);
    modules.set(key, module);
  }
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return { module, kernels: instance.exports as unknown as Kernels };
}
function readLeb(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++] as number;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, at];
  }
}

/** A copy of a module whose memory import is marked non-shared (limits flag 0x03 → 0x01); nothing else changes. */
export function withUnsharedMemoryImport(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  let at = 8;
  while (at < out.length) {
    const id = out[at++] as number;
    const [size, body] = readLeb(out, at);
    if (id === 2) {
      let p = body;
      let count: number;
      [count, p] = readLeb(out, p);
      for (let e = 0; e < count; e++) {
        for (let name = 0; name < 2; name++) {
          let len: number;
          [len, p] = readLeb(out, p);
          p += len;
        }
        const kind = out[p++] as number;
        if (kind === 0) [, p] = readLeb(out, p);
        else if (kind === 1) {
          p++;
          const flags = out[p++] as number;
          [, p] = readLeb(out, p);
          if (flags & 1) [, p] = readLeb(out, p);
        } else if (kind === 2) {
          if (out[p] === 3) out[p] = 1;
          return out;
        } else if (kind === 3) p += 2;
      }
    }
    at = body + size;
  }
  return out;
}
