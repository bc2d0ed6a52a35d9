import { fileURLToPath } from 'node:url';
import { runInChromium } from '@sparseland/browser-runner';
import { allBackendCases } from '@sparseland/conformance/cases';
import { beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_CONFIGS, type BrowserCaseResult, configName } from './browser/conformance-page.js';

// The conformance cases run in headless Chromium (Web Workers, SharedArrayBuffer, WebAssembly SIMD and relaxed
// SIMD) on the TypeScript kernels and both WebAssembly builds with 1 and 2 threads; one vitest test per (configuration, case) so the counts are honest.
let page: { crossOriginIsolated: boolean; results: BrowserCaseResult[] } | undefined;
let failure: unknown;

beforeAll(async () => {
  try {
    page = (await runInChromium({
      entry: fileURLToPath(new URL('./browser/conformance-page.ts', import.meta.url)),
      timeoutMs: 240_000,
    })) as typeof page;
  } catch (error) {
    failure = error;
  }
}, 300_000);

describe('cpu backend in headless Chromium', () => {
  it('the page is cross-origin isolated (shared memory for Web Workers)', () => {
    if (failure) throw failure;
    expect(page?.crossOriginIsolated).toBe(true);
  });
  for (const config of BROWSER_CONFIGS) {
    for (const c of allBackendCases()) {
      const name = configName(config);
      it(`${name}: ${c.name}`, () => {
        if (failure) throw failure;
        const r = page?.results.find((x) => x.config === name && x.name === c.name);
        expect(r, 'the page ran this case').toBeDefined();
        expect(r?.detail ?? '').toBe('');
        expect(r?.status).toBe('pass');
      });
    }
  }
});
