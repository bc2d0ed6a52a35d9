// @ts-check
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { chromiumAvailable, packagedChromium } from './chromium.js';

export { chromiumAvailable, packagedChromium };

/** Headless, no network chatter, WebGPU and WebGL2 on SwiftShader (the packaged Chromium ships SwiftShader). */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless=new',
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--no-zygote',
]);

const TYPES = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.html': 'text/html',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

/**
 * Bundles `entry` (a module whose `run()` export returns JSON-serialisable data) for the browser, serves it from a
 * cross-origin-isolated localhost page (so SharedArrayBuffer and WebAssembly threads work), runs it in headless
 * Chromium and returns `run()`'s result. Extra `workers` entries are bundled beside it as `<name>.js` so the page can
 * start them with `new Worker('./<name>.js', { type: 'module' })`. Workspace packages resolve to their TypeScript
 * source, so nothing has to be built first.
 *
 * @param {{ entry: string; workers?: Record<string, string>; timeoutMs?: number; assets?: Record<string, string>; onConsole?: (line: string) => void }} options
 * @returns {Promise<unknown>}
 */
export async function runInChromium(options) {
  const browserBinary = await packagedChromium();
  const dir = mkdtempSync(join(tmpdir(), 'sparseland-browser-'));
  try {
    const entryPoints = { main: options.entry, ...(options.workers ?? {}) };
    await build({
      entryPoints,
      outdir: dir,
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['@sparseland/source', 'browser', 'module', 'import'],
      sourcemap: 'inline',
      logLevel: 'silent',
      loader: { '.wasm': 'binary' },
      define: { 'process.env.NODE_ENV': '"production"' },
    });
    for (const [name, from] of Object.entries(options.assets ?? {})) writeFileSync(join(dir, name), readFileSync(from));
    writeFileSync(
      join(dir, 'index.html'),
      `<!doctype html><meta charset="utf-8"><title>sparseland browser test</title>
<script type="module">
  import * as mod from './main.js';
  try { window.__result = { ok: true, value: await mod.run() }; }
  catch (e) { window.__result = { ok: false, error: String(e && e.stack || e) }; }
  window.__done = true;
</script>`,
    );
    const server = createServer((req, res) => {
      const path = normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/')).replace(/^(\.\.[/\\])+/, '');
      const file = join(dir, path === '/' ? 'index.html' : path);
      if (!file.startsWith(dir) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[/** @type {keyof typeof TYPES} */ (extname(file))] ?? 'application/octet-stream',
        'cross-origin-opener-policy': 'same-origin',
        'cross-origin-embedder-policy': 'require-corp',
        'cache-control': 'no-store',
      });
      res.end(readFileSync(file));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const browser = await chromium.launch({
      executablePath: browserBinary.executablePath,
      args: [...CHROMIUM_ARGS],
      headless: true,
      env: { ...process.env, ...browserBinary.env },
    });
    try {
      const page = await browser.newPage();
      page.on('console', (msg) => options.onConsole?.(msg.text()));
      /** @type {string[]} */
      const pageErrors = [];
      page.on('pageerror', (error) => pageErrors.push(String(error)));
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction('window.__done === true', undefined, { timeout: options.timeoutMs ?? 120_000, polling: 100 });
      const result = /** @type {{ ok: boolean; value?: unknown; error?: string }} */ (await page.evaluate('window.__result'));
      if (!result.ok)
        throw new Error(`browser run failed: ${result.error}${pageErrors.length ? `\npage errors: ${pageErrors.join('\n')}` : ''}`);
      return result.value;
    } finally {
      await browser.close();
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
