import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_ARGS, packagedChromium } from '@sparseland/browser-runner';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Screenshots of the main views, under the test output. */
export const SCREENSHOTS = fileURLToPath(new URL('../test-results/screenshots/', import.meta.url));

/** The packaged headless Chromium every browser suite uses (WebGL2 and WebGPU on SwiftShader). */
export async function launch(): Promise<Browser> {
  const binary = await packagedChromium();
  return chromium.launch({
    executablePath: binary.executablePath,
    args: [...CHROMIUM_ARGS],
    headless: true,
    env: { ...process.env, ...binary.env },
  });
}

export interface OpenedPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Console errors and uncaught exceptions. */
  readonly errors: string[];
  /** Requests to anything but the local server (blob: and data: URLs are local). */
  readonly external: string[];
}

/** A fresh context (empty caches) on the app at `hash`, recording errors and requests that leave 127.0.0.1. */
export async function open(browser: Browser, url: string, hash = '', viewport = { width: 1280, height: 800 }): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const errors: string[] = [];
  const external: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  context.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith('http://127.0.0.1:') && !u.startsWith('blob:') && !u.startsWith('data:')) external.push(u);
  });
  await page.goto(`${url}${hash}`);
  return { page, context, errors, external };
}

/** Waits until a heatmap shows its overlay and its numbers for the current request. */
export async function waitForNumbers(page: Page, slot: 'A' | 'B', timeout = 240_000): Promise<void> {
  const index = slot === 'A' ? 0 : 1;
  await page.waitForFunction(
    (i) => {
      const f = document.querySelectorAll<HTMLElement>('figure.heatmap')[i];
      return !!f && !!f.dataset['key'] && f.dataset['numbers'] === f.dataset['key'];
    },
    index,
    { timeout, polling: 100 },
  );
}

/** Every number the metrics table shows for a slot: metric → head ('0', '1', …, 'layer') → { text, value }. */
export async function shownNumbers(page: Page, slot: 'A' | 'B'): Promise<Record<string, Record<string, { text: string; value: number }>>> {
  return page.evaluate((s) => {
    const out: Record<string, Record<string, { text: string; value: number }>> = {};
    for (const td of document.querySelectorAll<HTMLElement>(`.metrics td[data-slot="${s}"]`)) {
      const metric = td.dataset['metric'] as string;
      out[metric] ??= {};
      out[metric][td.dataset['head'] as string] = { text: td.textContent ?? '', value: Number(td.dataset['value']) };
    }
    return out;
  }, slot);
}

/** Saves a screenshot under test-results/screenshots/ and returns its path. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = `${SCREENSHOTS}${name}.png`;
  await page.screenshot({ path, fullPage });
  return path;
}

/** A recipe as the URL fragment's `a=` / `b=` value. */
export function recipeParam(recipe: unknown): string {
  return encodeURIComponent(JSON.stringify(recipe));
}
