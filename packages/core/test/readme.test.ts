// The README's "Use" section shows examples/quickstart.ts and examples/kit.ts and their output: all must stay true.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { kitExample } from '../examples/kit.js';
import { quickstart } from '../examples/quickstart.js';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

it.each([
  ['../examples/quickstart.ts', quickstart],
  ['../examples/kit.ts', kitExample],
] as const)('the README shows %s verbatim and its real output', async (path, example) => {
  const readme = read('../README.md');
  expect(readme).toContain(`\`\`\`ts\n${read(path)}\`\`\``);
  const lines: string[] = [];
  await example((line) => lines.push(line));
  expect(readme).toContain(`\`\`\`text\n${lines.join('\n')}\n\`\`\``);
});
