// Writes docs/<pattern>.svg, the pictures of the README table, from the first golden case of each pattern.
// Run: pnpm --filter @sparseland/patterns pictures (after a deliberate change to a pattern).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MaskShape } from '@sparseland/core';
import { patterns, renderMask } from '../src/index.js';

const root = join(import.meta.dirname, '..');
mkdirSync(join(root, 'docs'), { recursive: true });
for (const plugin of patterns) {
  const cases = JSON.parse(readFileSync(join(root, 'test', 'fixtures', plugin.name, 'cases.json'), 'utf8')) as {
    params: Record<string, unknown>;
    shape: MaskShape;
    blockQ: number;
    blockK: number;
  }[];
  const first = cases[0];
  if (!first) continue;
  const instance = plugin.build(plugin.parseParams(first.params));
  const mask = instance.mask?.(first.shape, { blockQ: first.blockQ, blockK: first.blockK });
  if (!mask) continue; // score modifiers keep every pair
  const svg = renderMask(mask, { format: 'svg', level: 'element', cellSize: Math.max(2, Math.floor(160 / first.shape.kvLength)) });
  writeFileSync(join(root, 'docs', `${plugin.name}.svg`), svg);
  console.log(`docs/${plugin.name}.svg`);
}
