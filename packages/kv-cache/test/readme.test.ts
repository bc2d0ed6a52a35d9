// The README's "Use" section shows examples/quickstart.ts and its output: both must stay true.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { quickstart } from '../examples/quickstart.js';

it('the README shows the example verbatim and its real output', async () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const example = readFileSync(new URL('../examples/quickstart.ts', import.meta.url), 'utf8');
  expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  const lines: string[] = [];
  await quickstart((line) => lines.push(line));
  expect(readme).toContain(`\`\`\`text\n${lines.join('\n')}\n\`\`\``);
});
