// Browser test page (bundled by @sparseland/browser-runner, run in headless Chromium): the framework-free
// conformance cases on both implementations and both WebAssembly builds (SIMD128, relaxed SIMD: Chromium ships
// relaxed SIMD, so the relaxed build is required here), on the page's thread and on two Web Workers over shared
// memory.
import { allBackendCases, type CaseOutcome, FP32_TOLERANCE, runCases } from '@sparseland/conformance/cases';
import { createCpuBackend } from '../../src/index.js';

export const BROWSER_CONFIGS = [
  { impl: 'ts', simd: 'none', threads: 1 },
  { impl: 'ts', simd: 'none', threads: 2 },
  { impl: 'wasm', simd: 'simd128', threads: 1 },
  { impl: 'wasm', simd: 'simd128', threads: 2 },
  { impl: 'wasm', simd: 'relaxed', threads: 1 },
  { impl: 'wasm', simd: 'relaxed', threads: 2 },
] as const;

/** One case's outcome in one configuration. */
export interface BrowserCaseResult extends CaseOutcome {
  readonly config: string;
}

export function configName(c: (typeof BROWSER_CONFIGS)[number]): string {
  return `${c.impl === 'ts' ? 'ts' : `wasm ${c.simd}`}, ${c.threads} thread${c.threads > 1 ? 's' : ''}`;
}

export async function run(): Promise<{ crossOriginIsolated: boolean; results: BrowserCaseResult[] }> {
  const results: BrowserCaseResult[] = [];
  for (const c of BROWSER_CONFIGS) {
    const config = configName(c);
    let backend: Awaited<ReturnType<typeof createCpuBackend>> | undefined;
    try {
      backend = await createCpuBackend({ impl: c.impl, relaxedSimd: c.simd === 'relaxed', threads: c.threads, minParallelWork: 0 });
      if (backend.impl !== c.impl || backend.simd !== c.simd || backend.threads !== c.threads)
        throw new Error(`got impl ${backend.impl} (${backend.simd}) with ${backend.threads} threads`);
    } catch (error) {
      for (const k of allBackendCases())
        results.push({ config, name: k.name, status: 'fail', detail: `backend did not start: ${String(error)}`, ms: 0 });
      continue;
    }
    const started = backend;
    for (const outcome of await runCases(allBackendCases(), (k) => k.run(started, FP32_TOLERANCE))) results.push({ config, ...outcome });
    await backend.dispose();
  }
  return { crossOriginIsolated: globalThis.crossOriginIsolated === true, results };
}
