import { type BlockMask, ColumnMask, causal as causalMod, isSparselandError } from '@sparseland/core';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { causal, DEFAULT_PALETTE, renderMask, slidingWindow } from '../src/index.js';

const shape = (n: number) => ({ heads: 1, qLength: n, kvLength: n, qOffset: 0 });

describe('renderMask', () => {
  it('draws a MaskMod pair by pair in ASCII', () => {
    expect(renderMask(causalMod, { format: 'ascii', shape: shape(4) })).toBe(
      ['MaskMod causal head=0 q=4 kv=4 qOffset=0 level=element', '#...', '##..', '###.', '####', ''].join('\n'),
    );
  });

  it('draws blocks as # full, + partial, . empty, matching BlockMask.toString', () => {
    const blocks = causal.build({}).mask?.(shape(40), { blockQ: 8, blockK: 8 }).blocks as BlockMask;
    const ascii = renderMask(blocks, { format: 'ascii', level: 'block' });
    expect(ascii.split('\n').slice(1).join('\n').trim()).toBe(blocks.toString().split('\n').slice(1).join('\n'));
  });

  it('clips pairs after the query when causal', () => {
    const mask = slidingWindow.build(slidingWindow.parseParams({ window: 2, causal: false })).mask?.(shape(3), { blockQ: 2, blockK: 2 });
    const lines = renderMask(mask as never, { format: 'ascii', causal: true }).split('\n');
    expect(lines.slice(1, 4)).toEqual(['#..', '##.', '.##']);
  });

  it('draws ColumnMask and SparseMask columns', () => {
    const columns = ColumnMask.build(shape(6), 3, { heads: 1 }, (_h, qb, out) => out.pushAll(qb === 0 ? [1] : [0, 5]));
    const ascii = renderMask(columns, { format: 'ascii' }).split('\n');
    expect(ascii.slice(1, 7)).toEqual(['.#....', '.#....', '.#....', '#....#', '#....#', '#....#']);
    const block = renderMask({ columns }, { format: 'ascii', level: 'block', blockK: 3 }).split('\n');
    expect(block.slice(1, 3)).toEqual(['+.', '++']);
  });

  it('shrinks large masks so a cell is full only when everything under it is', () => {
    const n = 8192;
    const mask = slidingWindow.build(slidingWindow.parseParams({ window: 1024 })).mask?.(shape(n), { blockQ: 64, blockK: 64 });
    const ascii = renderMask(mask as never, { format: 'ascii' });
    const rows = ascii.trim().split('\n').slice(1);
    expect(rows.length).toBeLessThanOrEqual(160);
    expect(Math.max(...rows.map((r) => r.length))).toBeLessThanOrEqual(160);
    expect(rows[0]?.[0]).toBe('+'); // the diagonal block is partial
    expect(rows.at(-1)?.[0]).toBe('.'); // far from the window nothing is kept
  });

  it('writes an SVG with one rectangle per run of cells', () => {
    const svg = renderMask(causalMod, { format: 'svg', shape: shape(8), cellSize: 4 });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32"')).toBe(true);
    expect(svg.match(/<rect /g)?.length).toBe(1 + 8); // background + one run per row
    expect(svg.trim().endsWith('</svg>')).toBe(true);
  });

  it('encodes a PNG that decodes to the palette colours', () => {
    const png = renderMask(causalMod, { format: 'png', shape: shape(4), cellSize: 2 });
    expect(png).toBeInstanceOf(Uint8Array);
    const image = decode(png);
    expect([image.width, image.height, image.channels]).toEqual([8, 8, 3]);
    const pixel = (x: number, y: number) => Array.from(image.data.subarray((y * 8 + x) * 3, (y * 8 + x) * 3 + 3));
    expect(pixel(0, 7)).toEqual([...DEFAULT_PALETTE.full]);
    expect(pixel(7, 0)).toEqual([...DEFAULT_PALETTE.empty]);
  });

  it('says what was expected when the input is wrong', () => {
    const fails = (f: () => unknown, pattern: RegExp) => {
      try {
        f();
      } catch (error) {
        expect(isSparselandError(error, 'E_PARAMS')).toBe(true);
        expect((error as Error).message).toMatch(pattern);
        return;
      }
      throw new Error('expected an error');
    };
    fails(() => renderMask(causalMod, { format: 'ascii' }), /MaskMod has no geometry/);
    fails(() => renderMask(causalMod, { format: 'gif' as never, shape: shape(2) }), /format must be/);
    fails(() => renderMask(causalMod, { format: 'ascii', shape: shape(2), head: 3 }), /head must be an integer in \[0, 1\)/);
    fails(() => renderMask({} as never, { format: 'ascii' }), /expected a SparseMask/);
  });
});
