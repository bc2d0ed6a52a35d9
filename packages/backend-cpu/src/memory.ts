import { SparselandError } from '@sparseland/core';
import { createViews, type MemoryViews } from './ts-kernels.js';

const PAGE = 65536;
/** wasm32 can address 4 GiB; browsers on small devices may refuse to reserve that, so 1 GiB is the fallback. */
const MAX_PAGES = [65536, 16384];

/**
 * The memory every thread works in: a (shared) WebAssembly.Memory for the wasm implementation, a
 * SharedArrayBuffer (or a plain ArrayBuffer when no thread can share it) for the TypeScript one. `views` is one
 * object whose fields are replaced when the memory grows, so kernels holding it always see the current buffer.
 */
export interface WorkMemory {
  readonly shared: boolean;
  readonly wasm: WebAssembly.Memory | undefined;
  readonly views: MemoryViews;
  /** Makes at least `floats` 4-byte elements addressable. */
  ensure(floats: number): void;
}

export function createWasmMemory(shared: boolean, initialBytes = 16 * PAGE): WorkMemory {
  let memory: WebAssembly.Memory | undefined;
  let lastError: unknown;
  for (const maximum of MAX_PAGES) {
    try {
      memory = new WebAssembly.Memory({ initial: Math.ceil(initialBytes / PAGE), maximum, shared });
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (!memory) throw new SparselandError('E_BACKEND_UNAVAILABLE', `cpu backend: cannot create WebAssembly memory: ${String(lastError)}`);
  const wasm = memory;
  const views = createViews(wasm.buffer);
  return {
    shared,
    wasm,
    views,
    ensure(floats) {
      const bytes = floats * 4;
      if (wasm.buffer.byteLength < bytes) {
        // Grow geometrically so a sequence of larger calls does not grow every time.
        const want = Math.max(bytes, Math.floor(wasm.buffer.byteLength * 1.5));
        const pages = Math.ceil((want - wasm.buffer.byteLength) / PAGE);
        try {
          wasm.grow(pages);
        } catch {
          try {
            wasm.grow(Math.ceil((bytes - wasm.buffer.byteLength) / PAGE));
          } catch (error) {
            throw new SparselandError(
              'E_BUDGET',
              `cpu backend (wasm): the call needs ${(bytes / 2 ** 20).toFixed(0)} MiB of WebAssembly memory, more than this engine allows (${String(error)}); use impl 'ts' or a shorter input`,
            );
          }
        }
      }
      if (views.f32.buffer !== wasm.buffer || views.f32.length * 4 !== wasm.buffer.byteLength)
        Object.assign(views, createViews(wasm.buffer));
    },
  };
}

export function createBufferMemory(shared: boolean, initialBytes = 1 << 20): WorkMemory {
  const allocate = (bytes: number): ArrayBufferLike => (shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  const views = createViews(allocate(initialBytes));
  return {
    shared,
    wasm: undefined,
    views,
    ensure(floats) {
      const bytes = floats * 4;
      if (views.f32.buffer.byteLength >= bytes) return;
      const size = Math.ceil(Math.max(bytes, views.f32.buffer.byteLength * 1.5) / 16) * 16;
      const next = createViews(allocate(size));
      // Prepared weights and KV stores live below the call layouts and must survive the move.
      next.f32.set(views.f32);
      Object.assign(views, next);
    },
  };
}

/** A bump allocator for one call's layout (element indices, 16-byte aligned, with slack after each region). */
export class Layout {
  top: number;

  /** Starts above everything the arena holds (`arena.top`). */
  constructor(start = 64) {
    this.top = start;
  }

  /** Reserves `floats` elements plus `slack` (reads of a 4-row or 8-key register tile may run past the end). */
  alloc(floats: number, slack = 256): number {
    const at = (this.top + 3) & ~3;
    this.top = at + Math.max(0, Math.ceil(floats)) + slack;
    return at;
  }
}

/** Alignment of arena regions in elements: 64 bytes, one cache line. */
const ARENA_ALIGN = 16;

/**
 * What outlives a call (prepared weight matrices, KV stores), at the bottom of the memory: first-fit regions with
 * neighbouring free regions merged, and the top lowered when the highest region is freed. Every call's Layout starts
 * at `top`. Allocate and free only between jobs (inside the executor's exclusive section): a running job's layout
 * sits just above the top it saw.
 */
export class Arena {
  top = 64;
  private readonly holes: { at: number; size: number }[] = [];

  /** Reserves `floats` elements (rounded up to 16) and returns their index. */
  alloc(floats: number): number {
    const size = Math.max(ARENA_ALIGN, Math.ceil(floats / ARENA_ALIGN) * ARENA_ALIGN);
    const i = this.holes.findIndex((h) => h.size >= size);
    if (i >= 0) {
      const hole = this.holes[i] as { at: number; size: number };
      const at = hole.at;
      if (hole.size === size) this.holes.splice(i, 1);
      else this.holes[i] = { at: at + size, size: hole.size - size };
      return at;
    }
    const at = this.top;
    this.top += size;
    return at;
  }

  /** Gives back a region from alloc(floats). */
  free(at: number, floats: number): void {
    const size = Math.max(ARENA_ALIGN, Math.ceil(floats / ARENA_ALIGN) * ARENA_ALIGN);
    let i = this.holes.findIndex((h) => h.at > at);
    if (i < 0) i = this.holes.length;
    this.holes.splice(i, 0, { at, size });
    // Merge with the next hole, then with the previous one.
    const next = this.holes[i + 1];
    const self = this.holes[i] as { at: number; size: number };
    if (next && self.at + self.size === next.at) {
      self.size += next.size;
      this.holes.splice(i + 1, 1);
    }
    const prev = this.holes[i - 1];
    if (prev && prev.at + prev.size === self.at) {
      prev.size += self.size;
      this.holes.splice(i, 1);
    }
    const last = this.holes[this.holes.length - 1];
    if (last && last.at + last.size === this.top) {
      this.top = last.at;
      this.holes.pop();
    }
  }

  /** Elements held by live regions. */
  get used(): number {
    return this.top - 64 - this.holes.reduce((sum, h) => sum + h.size, 0);
  }
}

/**
 * A result array to be filled from the backend's memory after a run. The first touch of fresh memory costs the
 * operating system a page fault per 4 KiB page (about 4 ms per MiB on the 2-core VMs our benchmarks run on, a 32 MiB
 * output 120 ms): `allocate()`, called in `Executor.run`'s `meanwhile`, makes the array and maps its pages while the
 * threads compute; `take()` returns it afterwards (made then if `allocate()` never ran), `copyFrom` fills it.
 */
export class PendingResult<T extends Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>> {
  private array: T | undefined;

  private constructor(
    private readonly make: (length: number) => T,
    readonly length: number,
  ) {}

  static floats(length: number): PendingResult<Float32Array<ArrayBuffer>> {
    return new PendingResult((n) => new Float32Array(n), length);
  }

  static ints(length: number): PendingResult<Int32Array<ArrayBuffer>> {
    return new PendingResult((n) => new Int32Array(n), length);
  }

  static doubles(length: number): PendingResult<Float64Array<ArrayBuffer>> {
    return new PendingResult((n) => new Float64Array(n), length);
  }

  allocate(): void {
    const a = this.make(this.length);
    // One write per 4 KiB page maps it (the step is in elements: 512 covers doubles too).
    for (let i = 0; i < a.length; i += 512) a[i] = 0;
    this.array = a;
  }

  take(): T {
    if (!this.array) this.allocate();
    return this.array as T;
  }

  /** The array filled with view[at, at + length). */
  copyFrom(view: { subarray(begin: number, end: number): ArrayLike<number> }, at: number): T {
    const a = this.take();
    a.set(view.subarray(at, at + this.length));
    return a;
  }
}
