// docs/authoring-plugins.md must not lie: its plugin is test/authoring-example/src/index.ts and its conformance
// test is test/authoring-example/test/local-band.test.ts (which vitest runs), both shown verbatim.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

it('the guide shows the example plugin and its conformance test verbatim', () => {
  const guide = read('../../../docs/authoring-plugins.md');
  for (const file of ['./authoring-example/src/index.ts', './authoring-example/test/local-band.test.ts']) {
    expect(guide, `${file} is not in the guide verbatim`).toContain(`\`\`\`ts\n${read(file)}\`\`\``);
  }
});
