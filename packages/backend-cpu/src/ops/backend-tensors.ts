import { type BackendTensor, createHeadTensor, type HeadTensor } from '@sparseland/core';
import { expectInteger, expectTensorSize } from '@sparseland/core/kit';
import type { Executor } from '../executor.js';
import { paddedDim } from '../scratch-layout.js';

/**
 * Tensors in the executor's WebAssembly memory (Backend.allocateTensor): arena regions viewed as Float32Arrays. The
 * attention ops look their data arrays up here and read (q, v) or write (out) them where they are, instead of
 * copying 2·heads·length·dim floats per call through the calling thread while the workers wait (at 32K, 8 heads,
 * d = 64: 11 ms for q and 11 ms for the output of a ~750 ms vertical-slash call). Only the exact array returned is
 * known: a subarray of it is copied like any other.
 */
interface Region {
  readonly exec: Executor;
  /** Element index in the memory. */
  readonly at: number;
}

const regions = new WeakMap<Float32Array, Region>();

/**
 * Backend.allocateTensor. A shared WebAssembly memory only grows and is never detached, so a view made now stays
 * valid. An unshared one (a page that is not cross-origin isolated) detaches its buffer when it grows, and the
 * TypeScript implementation's memory is copied into a larger buffer: there it returns an ordinary tensor, which
 * every op copies as usual.
 */
export async function allocateTensor(exec: Executor, heads: number, length: number, dim: number): Promise<BackendTensor> {
  expectInteger(heads, 'heads', 1);
  expectInteger(length, 'length', 0);
  expectInteger(dim, 'dim', 1);
  expectTensorSize(heads, length, dim, 'HeadTensor');
  const floats = heads * length * dim;
  const wasm = exec.memory.wasm;
  if (!wasm || !exec.memory.shared) return { tensor: createHeadTensor(heads, length, dim), release() {} };
  const at = await exec.exclusive(async () => {
    const region = exec.hold(floats);
    // A region freed by an earlier tensor or prepared copy holds old values.
    exec.memory.views.f32.fill(0, region, region + floats);
    return region;
  });
  const data = new Float32Array(wasm.buffer, at * 4, floats);
  regions.set(data, { exec, at });
  let released = false;
  return {
    tensor: createHeadTensor(heads, length, dim, data),
    release() {
      if (released) return;
      released = true;
      regions.delete(data);
      // The arena may change only between jobs; after dispose() there is nothing left to free.
      exec.exclusive(async () => exec.arena.free(at, floats)).catch(() => {});
    },
  };
}

/**
 * Where a tensor's rows sit in this executor's memory (an element index) when the kernels can read or write them
 * there: one of its own tensors, with rows as the kernels lay them out (dim a multiple of 4, so no padding). -1: copy.
 */
export function inPlaceIndex(exec: Executor, t: HeadTensor): number {
  if (paddedDim(t.dim) !== t.dim) return -1;
  const region = regions.get(t.data);
  return region && region.exec === exec ? region.at : -1;
}
