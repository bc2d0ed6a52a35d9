// Browser test page (bundled by @sparseland/browser-runner, run in headless Chromium): the framework-free
// conformance cases on both implementations, on the page's thread and on two Web Workers over shared memory.
import { allBackendCases, FP32_TOLERANCE } from '@sparseland/conformance/cases';
import { createCpuBackend } from '../../src/index.js';

export const BROWSER_CONFIGS = [
  { impl: 'ts', threads: 1 },
  { impl: 'ts', threads: 2 },
  { impl: 'wasm', threads: 1 },
  { impl: 'wasm', threads: 2 },
] as const;

export interface BrowserCaseResult {
  readonly config: string;
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

export function configName(c: (typeof BROWSER_CONFIGS)[number]): string {
  return `${c.impl}, ${c.threads} thread${c.threads > 1 ? 's' : ''}`;
}

export async function run(): Promise<{ crossOriginIsolated: boolean; results: BrowserCaseResult[] }> {
  const results: BrowserCaseResult[] = [];
  for (const c of BROWSER_CONFIGS) {
    const config = configName(c);
    let backend: Awaited<ReturnType<typeof createCpuBackend>> | undefined;
    try {
      backend = await createCpuBackend({ impl: c.impl, threads: c.threads, minParallelWork: 0 });
      if (backend.impl !== c.impl || backend.threads !== c.threads)
        throw new Error(`got impl ${backend.impl} with ${backend.threads} threads`);
    } catch (error) {
      for (const k of allBackendCases())
        results.push({ config, name: k.name, ok: false, error: `backend did not start: ${String(error)}` });
      continue;
    }
    for (const k of allBackendCases()) {
      try {
        await k.run(backend, FP32_TOLERANCE);
        results.push({ config, name: k.name, ok: true });
      } catch (error) {
        results.push({ config, name: k.name, ok: false, error: String(error) });
      }
    }
    await backend.dispose();
  }
  return { crossOriginIsolated: globalThis.crossOriginIsolated === true, results };
}
