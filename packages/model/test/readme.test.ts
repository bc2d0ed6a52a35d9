// The README's "Use" section shows examples/quickstart.ts and its output: both must stay true.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { main } from '../examples/quickstart.js';

it('the README shows the example’s real output', async () => {
  const lines: string[] = [];
  await main((line) => lines.push(line));
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const output = /Output:\n\n```text\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(output?.trimEnd()).toBe(lines.join('\n'));
  const source = readFileSync(new URL('../examples/quickstart.ts', import.meta.url), 'utf8');
  const body = source.slice(source.indexOf('  // Any llama2.c checkpoint'), source.lastIndexOf('}\n\nif (import.meta'));
  // The README's snippet is the example's body (dedented, console.log for log).
  const snippet = body
    .split('\n')
    .map((l) => l.replace(/^ {2}/, ''))
    .join('\n')
    .replaceAll('log(', 'console.log(')
    .trim();
  expect(readme).toContain(snippet);
});
