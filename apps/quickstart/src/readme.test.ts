// The README shows src/quickstart.ts verbatim and what `pnpm quickstart` printed: every line as it is, the table's
// measurements to within one unit of their last printed digit, the two time columns as numbers.
import { readFileSync } from 'node:fs';
import { createCpuBackend } from '@sparseland/backend-cpu';
import { expect, it } from 'vitest';
import { printQuickstart } from './quickstart.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

it('the README shows the quickstart verbatim and its real output', async () => {
  const readme = read('../README.md');
  expect(readme).toContain(`\`\`\`ts\n${read('./quickstart.ts')}\`\`\``);
  const shown = /Output[^\n]*:\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1]?.trimEnd().split('\n') ?? [];
  const lines: string[] = [];
  const backend = await createCpuBackend({ impl: 'auto', threads: 2 });
  try {
    await printQuickstart(backend, (text) => lines.push(...text.split('\n')));
  } finally {
    await backend.dispose();
  }
  expect(shown).toHaveLength(lines.length);
  lines.forEach((line, i) => {
    const want = shown[i] as string;
    if (!/^\s+\d+\s+\d/.test(line)) return expect(want).toBe(line);
    const got = line.trim().split(/\s+/);
    const readmeValues = want.trim().split(/\s+/);
    expect(readmeValues).toHaveLength(got.length);
    got.slice(0, 5).forEach((value, c) => {
      const digits = value.split('.')[1]?.length ?? 0;
      expect(Math.abs(Number(readmeValues[c]) - Number(value)), `row ${got[0]}, column ${c}`).toBeLessThanOrEqual(1.5 * 10 ** -digits);
    });
    for (const ms of readmeValues.slice(5)) expect(Number.isFinite(Number(ms))).toBe(true);
  });
}, 120_000);
