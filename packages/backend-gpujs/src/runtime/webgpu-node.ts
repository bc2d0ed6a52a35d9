/**
 * WebGPU in Node through the `webgpu` npm package (Google's Dawn). Browsers have `navigator.gpu` already; in Node we
 * install it once per process. Dawn's binary needs libstdc++ with GLIBCXX_3.4.32 (not Debian 12, yes on newer
 * distributions), so loading can fail: the reason is returned, never thrown.
 */

interface GpuLike {
  requestAdapter(options?: unknown): Promise<AdapterLike | null>;
}
interface AdapterLike {
  requestDevice(descriptor?: unknown): Promise<object>;
  readonly info?: { readonly vendor?: string; readonly architecture?: string; readonly device?: string; readonly description?: string };
}

let installing: Promise<string | undefined> | undefined;

/** The `navigator.gpu` of this realm, if any. */
export function currentGpu(): GpuLike | undefined {
  const nav = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator;
  return nav?.gpu ?? undefined;
}

/**
 * Makes `navigator.gpu` available. In a browser it only checks; in Node it loads Dawn and patches it. Resolves to
 * undefined when WebGPU's API is present, else to the reason it is not.
 */
export function ensureWebGpuApi(): Promise<string | undefined> {
  installing ??= install();
  return installing;
}

async function install(): Promise<string | undefined> {
  if (currentGpu()) return undefined;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) return 'this browser has no navigator.gpu (WebGPU is off or unsupported)';
  let dawn: { create(flags: string[]): GpuLike; globals: Record<string, unknown> };
  try {
    // A variable specifier keeps browser bundlers from pulling the Node-only Dawn binding into a page.
    const specifier = 'webgpu';
    dawn = (await import(/* @vite-ignore */ specifier)) as typeof dawn;
  } catch (error) {
    return `the webgpu (Dawn) package did not load: ${firstLine(error)}`;
  }
  let api: GpuLike;
  try {
    Object.assign(globalThis, dawn.globals);
    api = dawn.create([]);
  } catch (error) {
    return `Dawn did not start: ${firstLine(error)}`;
  }
  patchDeviceErrorHandler(api);
  const nav = (globalThis as { navigator?: object }).navigator;
  if (nav && typeof nav === 'object') {
    Object.defineProperty(nav, 'gpu', { value: api, configurable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: api }, configurable: true, writable: true });
  }
  return undefined;
}

/**
 * gpu.js assigns `device.onuncapturederror = fn`; Dawn's Node binding rejects that assignment ("object is not of the
 * correct interface type"). Wrapping requestDevice so the property is a no-op setter lets gpu.js run (checked on an
 * NVIDIA H200). Errors still surface through gpu.js's own validation and our result checks.
 */
function patchDeviceErrorHandler(api: GpuLike): void {
  const requestAdapter = api.requestAdapter.bind(api);
  api.requestAdapter = async (options?: unknown) => {
    const adapter = await requestAdapter(options);
    if (!adapter) return adapter;
    const requestDevice = adapter.requestDevice.bind(adapter);
    adapter.requestDevice = async (descriptor?: unknown) => {
      const device = await requestDevice(descriptor);
      try {
        Object.defineProperty(device, 'onuncapturederror', { configurable: true, set() {}, get: () => null });
      } catch {
        // A binding that accepts the assignment needs no patch.
      }
      return device;
    };
    return adapter;
  };
}

/** Asks for an adapter; resolves to its description or to the reason there is none. */
export async function describeAdapter(): Promise<{ ok: true; adapter: string } | { ok: false; reason: string }> {
  const missing = await ensureWebGpuApi();
  if (missing) return { ok: false, reason: missing };
  const gpu = currentGpu() as GpuLike;
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { ok: false, reason: 'navigator.gpu.requestAdapter() answered null: no usable WebGPU adapter' };
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.device, info.description].filter((x) => x && x.length > 0).join(' ');
    return { ok: true, adapter: name || 'unnamed adapter' };
  } catch (error) {
    return { ok: false, reason: `requestAdapter() failed: ${firstLine(error)}` };
  }
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] ?? text;
}
