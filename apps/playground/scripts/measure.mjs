// @ts-check
// Timing script (not a test): builds the app, serves it on 127.0.0.1 and drives the packaged headless Chromium with
// Playwright. Measures the first useful picture (model loaded, attention map and method A's overlay for a 2,048-token
// passage of tinybooks-2k) from navigation start, then method switches at 2,048 tokens (from the change event to the
// new overlay on screen), then a reload (the model must come from the cache, not the network). Writes JSON to
// bench-results/playground.json and prints it. Options: --no-build (reuse dist/), --runs N (switch repetitions).
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CHROMIUM_ARGS, packagedChromium } from '@sparseland/browser-runner';
import { chromium } from 'playwright-core';
import { APP_ROOT, buildApp, serveApp } from './server.mjs';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] || 5) || 5;
if (!args.includes('--no-build')) await buildApp();

/** Methods A switches through (each different from the previous), all at 2,048 tokens. */
const SWITCHES = [
  { method: 'sliding-window', params: { window: 256 } },
  { method: 'vertical-slash', params: { vertical: 64, slash: 128 } },
  { method: 'block-topk', params: { topK: 4 } },
  { method: 'strided', params: { stride: 45 } },
  { method: 'a-shape', params: { sink: 16, local: 256 } },
];

const requests = [];
const server = await serveApp({ onRequest: (path) => requests.push(path) });
const binary = await packagedChromium();
const browser = await chromium.launch({
  executablePath: binary.executablePath,
  args: [...CHROMIUM_ARGS],
  env: { ...process.env, ...binary.env },
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(String(e)));
page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
const load = () => loadavg().map((x) => Number(x.toFixed(2)));
const result = { when: new Date().toISOString(), cpus: cpus().length, loadBefore: load(), chromium: browser.version(), url: server.url };

try {
  await page.goto(server.url);
  // The first picture: heatmap A carries data-key once its overlay is drawn; renderedAt is performance.now().
  await page.waitForSelector('figure.heatmap[data-key]', { timeout: 120_000 });
  const first = await page.evaluate(() => {
    const a = document.querySelectorAll('figure.heatmap')[0];
    return { renderedAt: Number(a?.getAttribute('data-rendered-at')), tokens: document.querySelector('.model-info')?.textContent ?? '' };
  });
  result.firstPictureMs = Math.round(first.renderedAt);
  result.engineLoadMs = JSON.parse((await page.locator('#app').getAttribute('data-load-ms')) ?? '{}');
  result.firstPicturePhases = await page.evaluate(() =>
    Object.fromEntries(
      [
        ...performance
          .getEntriesByType('navigation')
          .map((e) => ['domContentLoaded', /** @type {PerformanceNavigationTiming} */ (e).domContentLoadedEventEnd]),
        ...performance
          .getEntriesByType('mark')
          .filter((m) => m.name.startsWith('sparseland:'))
          .map((m) => [m.name.slice(11), m.startTime]),
      ].map(([k, v]) => [k, Math.round(Number(v))]),
    ),
  );
  result.model = first.tokens;
  await page.waitForFunction(
    () => /layers captured/.test(document.querySelector('.model-panel .progress-label')?.textContent ?? ''),
    undefined,
    { timeout: 180_000 },
  );
  result.allLayersCapturedMs = Math.round(await page.evaluate(() => performance.now()));
  result.backend = await page.locator('.backend[data-backend="cpu"] small').textContent();
  // Steady state: the GPU probes (kernel compiles) and both methods' numbers are done before switching.
  await page.waitForFunction(() => !/probing/.test(document.querySelector('.backends')?.textContent ?? ''), undefined, {
    timeout: 180_000,
  });
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('figure.heatmap')].every((f) => f.hidden || (f.dataset.numbers && f.dataset.numbers === f.dataset.key)),
    undefined,
    { timeout: 180_000 },
  );
  const switches = [];
  for (let r = 0; r < runs; r++) {
    const recipe = SWITCHES[r % SWITCHES.length];
    const ms = await page.evaluate(async (recipe) => {
      const a = /** @type {HTMLElement} */ (document.querySelectorAll('figure.heatmap')[0]);
      const before = a.dataset.key;
      const t0 = performance.now();
      location.hash = `a=${encodeURIComponent(JSON.stringify(recipe))}`;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (a.dataset.key && a.dataset.key !== before && a.dataset.recipe === JSON.stringify(recipe)) {
          const overlayMs = Number(a.dataset.renderedAt) - t0;
          const renderMs = Number(a.dataset.renderMs);
          while (a.dataset.numbers !== a.dataset.key) {
            await new Promise((resolve) => setTimeout(resolve, 5));
            if (performance.now() - t0 > 60_000) throw new Error(`no numbers for ${JSON.stringify(recipe)}`);
          }
          const t = JSON.parse(a.dataset.timings ?? '{}');
          const r = (x) => Math.round(x);
          return {
            ms: overlayMs,
            numbersMs: r(t.receivedAt - t0),
            requestAfterMs: r(t.sentAt - t0),
            attentionMs: r(t.attentionMs),
            overlayArrivedMs: r(t.overlayAt - t0),
            renderMs: r(renderMs),
            measureMs: r(t.engine.measure),
            hashMs: r(t.engine.hash),
          };
        }
        if (performance.now() - t0 > 60_000) throw new Error(`no new overlay for ${JSON.stringify(recipe)}`);
      }
    }, recipe);
    switches.push({ method: recipe.method, ...ms, ms: Math.round(ms.ms) });
  }
  result.switches = switches;
  const sorted = switches.map((s) => s.ms).sort((a, b) => a - b);
  result.switchMedianMs = sorted[Math.floor(sorted.length / 2)];
  result.switchMaxMs = sorted[sorted.length - 1];
  const numbers = switches.map((s) => s.numbersMs).sort((a, b) => a - b);
  result.switchNumbersMedianMs = numbers[Math.floor(numbers.length / 2)];
  // A second visit: the model must come from Cache Storage.
  const modelFetchesFirst = requests.filter((p) => p.endsWith('.bin')).length;
  await page.reload();
  await page.waitForSelector('figure.heatmap[data-key]', { timeout: 120_000 });
  result.reloadFirstPictureMs = Math.round(Number(await page.locator('figure.heatmap').first().getAttribute('data-rendered-at')));
  result.modelFilesFetched = {
    firstVisit: modelFetchesFirst,
    secondVisit: requests.filter((p) => p.endsWith('.bin')).length - modelFetchesFirst,
  };
  result.nonLocalRequests = 0;
} finally {
  result.loadAfter = load();
  result.pageErrors = errors;
  await browser.close();
  await server.close();
}

/** Bytes of every built chunk, raw and gzipped. */
const assets = join(APP_ROOT, 'dist', 'assets');
result.chunks = readdirSync(assets)
  .filter((f) => /\.(js|css)$/.test(f))
  .map((f) => {
    const bytes = readFileSync(join(assets, f));
    return { file: f, bytes: statSync(join(assets, f)).size, gzip: gzipSync(bytes).length };
  })
  .sort((a, b) => b.bytes - a.bytes);
mkdirSync(join(APP_ROOT, 'bench-results'), { recursive: true });
writeFileSync(join(APP_ROOT, 'bench-results', 'playground.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
