import { createCpuBackend } from '@sparseland/backend-cpu';
import { compileRecipe, createRegistry } from '@sparseland/core';
import { loadFixtureModel, passageTokens, readFixtureText } from '@sparseland/eval';
import { kvPolicies } from '@sparseland/kv-cache';
import { argmax } from '@sparseland/model';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, type OpenedPage, open, screenshot } from './browser.js';

// The generation panel decodes as the library does in Node: tinybooks-2k after the first 256 tokens of Pride and
// Prejudice (the page's passage at #n=256), greedy, StreamingLLM at a quarter of the prompt, on the CPU backend.
// Same tokens, and the same cache bytes (held and full), as a model session in Node with the same recipe.
const POSITIONS = 256;
const NEW_TOKENS = 12;
const KV = { method: 'streaming-llm', params: { budget: 0.25 } };

let browser: Browser;
let opened: OpenedPage;

/** Greedy tokens and the KV bytes after them, in Node (held: caches + policy state; full: fp32 K, V and positions). */
async function inNode(): Promise<{ tokens: number[]; bytes: number; fullBytes: number }> {
  const loaded = await loadFixtureModel('tinybooks-2k');
  const prompt = passageTokens(loaded, await readFixtureText('pride-and-prejudice'), 0, POSITIONS);
  const backend = await createCpuBackend();
  const compiled = compileRecipe({ default: { method: 'dense' }, kv: KV }, createRegistry({ plugins: [kvPolicies] }));
  const session = loaded.model.createSession({ backend, recipe: compiled });
  try {
    const tokens: number[] = [];
    let logits = await session.prefill(prompt);
    for (let i = 0; i < NEW_TOKENS; i++) {
      tokens.push(argmax(logits));
      if (i + 1 < NEW_TOKENS) logits = await session.step(tokens[i] as number);
    }
    const { kvHeads, headDim } = loaded.model.config;
    return {
      tokens,
      bytes: session.cache.reduce((n, c) => n + c.bytes() + (compiled.kvPolicy?.stateBytes?.(c) ?? 0), 0),
      fullBytes: session.cache.reduce((n, c) => n + c.written() * kvHeads * (2 * headDim * 4 + 4), 0),
    };
  } finally {
    await session.dispose();
    await backend.dispose();
  }
}

beforeAll(async () => {
  browser = await launch();
  opened = await open(browser, inject('playgroundUrl'), `#n=${POSITIONS}`);
  await opened.page.waitForFunction(() => document.querySelector<HTMLButtonElement>('#kv-run')?.disabled === false, undefined, {
    timeout: 240_000,
  });
});

afterAll(async () => {
  await browser?.close();
});

describe('the KV generation panel', () => {
  it('offers every registered KV policy and the full cache', async () => {
    const offered = await opened.page.locator('#kv-policy option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(offered[0]).toBe('full cache');
    expect(offered.slice(1).sort()).toEqual(kvPolicies.map((p) => p.name).sort());
    // A policy without a budget parameter (KIVI) disables the budget field.
    await opened.page.selectOption('#kv-policy', 'kivi');
    expect(await opened.page.locator('#kv-budget').isDisabled()).toBe(true);
    await opened.page.selectOption('#kv-policy', 'streaming-llm');
    expect(await opened.page.locator('#kv-budget').isDisabled()).toBe(false);
  });

  it('refuses a bad budget at the form, naming the parameter', async () => {
    const { page } = opened;
    await page.selectOption('#kv-policy', 'streaming-llm');
    await page.fill('#kv-budget', '-1');
    await page.click('#kv-run');
    await expect.poll(() => page.locator('#kv-error').textContent()).toMatch(/^budget: /);
  });

  it('streams the same greedy tokens and cache bytes as a model session in Node', async () => {
    const { page } = opened;
    const node = await inNode();
    await page.selectOption('#kv-policy', KV.method);
    await page.fill('#kv-budget', String(KV.params.budget));
    await page.fill('#kv-tokens', String(NEW_TOKENS));
    await page.click('#kv-run');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('section.kv')?.dataset['done'] === 'streaming-llm', undefined, {
      timeout: 240_000,
    });
    expect(await page.locator('#kv-error').textContent()).toBe('');
    const tokens = (await page.locator('.kv-output').getAttribute('data-tokens'))?.split(',').map(Number);
    expect(tokens).toEqual(node.tokens);
    const bytes = page.locator('.kv-bytes');
    expect(Number(await bytes.getAttribute('data-bytes'))).toBe(node.bytes);
    expect(Number(await bytes.getAttribute('data-full-bytes'))).toBe(node.fullBytes);
    // StreamingLLM holds a quarter of the prompt's tokens (+ nothing of its own), so well under half the full cache.
    expect(node.bytes / node.fullBytes).toBeLessThan(0.3);
    expect(await bytes.textContent()).toMatch(/^cache [\d.]+ KiB of [\d.]+ KiB full \([\d.]+ %\) · 12 tokens · [\d.]+ ms\/token$/);
    await page.locator('section.kv').scrollIntoViewIfNeeded();
    await screenshot(page, 'kv-panel', false);
    expect(opened.errors).toEqual([]);
    expect(opened.external).toEqual([]);
  });
});
