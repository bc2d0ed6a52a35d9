// The README must not lie: each "From [file](path):" block is a verbatim part of that file (a test that runs in
// CI), and the "Without vitest" example is examples/run-cases.ts with its real output.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { runCasesExample } from '../examples/run-cases.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');
const readme = read('../README.md');

it('every excerpt is a verbatim part of the test file it names', () => {
  const excerpts = [...readme.matchAll(/From \[`[^`]+`\]\(([^)]+)\):\n\n```ts\n([\s\S]*?)```/g)];
  expect(excerpts.length).toBe(4);
  for (const [, path, code] of excerpts) expect(read(`../${path}`), `README excerpt of ${path}`).toContain(code);
});

it('the README shows examples/run-cases.ts verbatim and its real output', async () => {
  expect(readme).toContain(`\`\`\`ts\n${read('../examples/run-cases.ts')}\`\`\``);
  const lines: string[] = [];
  await runCasesExample((line) => lines.push(line));
  expect(readme).toContain(`\`\`\`text\n${lines.join('\n')}\n\`\`\``);
});
