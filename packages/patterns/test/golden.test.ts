import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MaskShape, PatternPlugin } from '@sparseland/core';
import { describe, expect, it } from 'vitest';
import { patterns, renderMask } from '../src/index.js';

// Golden pictures (remark-toc style): test/fixtures/<pattern>/cases.json lists small cases; <case>.txt holds the
// expected ASCII. Run with UPDATE=1 to rewrite the pictures after a deliberate change, then review the diff.
interface GoldenCase {
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly shape: MaskShape;
  readonly blockQ: number;
  readonly blockK: number;
  /** Heads to draw (default [0]). */
  readonly heads?: number[];
}

const FIXTURES = join(import.meta.dirname, 'fixtures');
const UPDATE = process.env['UPDATE'] === '1';

/** The picture of one case: element level per drawn head, then the block level of head 0, or a bias table. */
function picture(plugin: PatternPlugin, c: GoldenCase): string {
  const instance = plugin.build(plugin.parseParams(c.params));
  const header = `${plugin.name} ${JSON.stringify(c.params)} shape ${JSON.stringify(c.shape)} blocks ${c.blockQ}x${c.blockK}\n`;
  if (!instance.mask) {
    const score = instance.scoreMod?.(c.shape);
    if (!score) throw new Error(`${plugin.name} has neither a mask nor a score modifier`);
    const lines = [];
    for (const h of c.heads ?? [0]) {
      lines.push(`score added to a zero logit, head ${h} (rows: queries, columns: keys)`);
      for (let i = 0; i < c.shape.qLength; i++) {
        const q = c.shape.qOffset + i;
        const row = [];
        for (let k = 0; k < c.shape.kvLength; k++) row.push(score(0, h, q, k).toFixed(2).padStart(6));
        lines.push(row.join(''));
      }
    }
    return `${header}${lines.join('\n')}\n`;
  }
  const mask = instance.mask(c.shape, { blockQ: c.blockQ, blockK: c.blockK });
  const parts = (c.heads ?? [0]).map((head) => renderMask(mask, { format: 'ascii', level: 'element', head }));
  parts.push(renderMask(mask, { format: 'ascii', level: 'block', head: 0 }));
  return `${header}${parts.join('')}`;
}

describe('golden mask pictures', () => {
  it('every pattern has a fixture folder', () => {
    const folders = new Set(readdirSync(FIXTURES));
    expect((patterns as readonly PatternPlugin[]).map((p) => p.name).filter((name) => !folders.has(name))).toEqual([]);
  });

  for (const plugin of patterns as readonly PatternPlugin[]) {
    const folder = join(FIXTURES, plugin.name);
    if (!existsSync(join(folder, 'cases.json'))) continue;
    const cases = JSON.parse(readFileSync(join(folder, 'cases.json'), 'utf8')) as GoldenCase[];
    for (const c of cases) {
      it(`${plugin.name} / ${c.name}`, () => {
        const file = join(folder, `${c.name}.txt`);
        const actual = picture(plugin, c);
        if (UPDATE) writeFileSync(file, actual);
        expect(existsSync(file), `${file} is missing: run the tests with UPDATE=1 and review the new picture`).toBe(true);
        expect(actual).toBe(readFileSync(file, 'utf8'));
      });
    }
  }
});
