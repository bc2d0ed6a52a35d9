import { definePattern, type MaskShape, SparselandError } from '@sparseland/core';
import { z } from 'zod';
import { sequenceLength, termPattern } from '../../engine/pattern-instance.js';
import { PAPERS } from '../../papers.js';
import type { AxisRule } from './axis.js';
import { GridLayout } from './layout.js';
import { neighborhoodTerm } from './neighborhood-term.js';

const perAxisInt = (fallback: number, description: string) =>
  z
    .union([z.number().int().min(1), z.array(z.number().int().min(1)).min(1).max(3)])
    .default(fallback)
    .describe(`${description} (one value for every axis, or one per axis)`);

const paramsSchema = z
  .object({
    grid: z
      .array(z.number().int().min(0))
      .max(3)
      .default([])
      .describe('extents of the token grid, row-major ([H, W] or [T, H, W]); a leading 0 is derived from the length; [] = 1D'),
    kernelSize: perAxisInt(7, 'keys per axis each query sees (NAT: 7)'),
    dilation: perAxisInt(1, 'spacing of the kept keys per axis'),
    stride: perAxisInt(1, 'queries per axis sharing one window (GNA; stride = kernel is blocked attention)'),
    causal: z
      .union([z.boolean(), z.array(z.boolean()).min(1).max(3)])
      .default(false)
      .describe('look back only, per axis (e.g. [true, false, false] for time-causal video)'),
  })
  .strict()
  .superRefine((p, ctx) => {
    const dims = Math.max(1, p.grid.length);
    for (const key of ['kernelSize', 'dilation', 'stride', 'causal'] as const) {
      const v = p[key];
      if (Array.isArray(v) && v.length !== dims) {
        ctx.addIssue({ code: 'custom', path: [key], message: `expected ${dims} values (one per grid axis), got ${v.length}` });
      }
    }
    if (p.grid.slice(1).some((n) => n === 0)) ctx.addIssue({ code: 'custom', path: ['grid'], message: 'only the leading extent may be 0' });
    for (let a = 0; a < dims; a++) {
      const k = Array.isArray(p.kernelSize) ? (p.kernelSize[a] ?? 1) : p.kernelSize;
      const s = Array.isArray(p.stride) ? (p.stride[a] ?? 1) : p.stride;
      if (s > k) ctx.addIssue({ code: 'custom', path: ['stride'], message: `stride ${s} exceeds kernelSize ${k} on axis ${a} (NATTEN)` });
    }
  });

type NeighborhoodParams = z.output<typeof paramsSchema>;

const axisValue = <T>(v: T | T[], a: number): T => (Array.isArray(v) ? (v[a] as T) : v);

/** The grid and per-axis rules for one call; throws E_SHAPE when the sequence does not fit the grid. */
function axesFor(p: NeighborhoodParams, shape: MaskShape): { layout: GridLayout; rules: AxisRule[] } {
  const length = sequenceLength(shape);
  const inner = p.grid.slice(1).reduce((x, y) => x * y, 1);
  const extents = p.grid.length === 0 ? [length] : p.grid.map((n, a) => (a === 0 && n === 0 ? Math.ceil(length / inner) : n));
  const capacity = extents.reduce((x, y) => x * y, 1);
  if (capacity < length) {
    throw new SparselandError(
      'E_SHAPE',
      `neighborhood: grid [${extents.join(', ')}] holds ${capacity} tokens but the call reaches position ${length - 1} (use a leading 0 to derive the first extent)`,
    );
  }
  const rules = extents.map((extent, a) => ({
    extent,
    kernel: axisValue(p.kernelSize, a),
    dilation: axisValue(p.dilation, a),
    stride: axisValue(p.stride, a),
    causal: axisValue(p.causal, a),
  }));
  return { layout: new GridLayout(extents), rules };
}

/**
 * The GNA rule on one axis, written out on its own as the oracle: same dilation group, then the (shifted or
 * truncated) window of the query's stride group.
 */
function keepsOnAxis(rule: AxisRule, q: number, k: number): boolean {
  const d = rule.dilation;
  if (q % d !== k % d) return false;
  const r = q % d;
  const n = Math.floor(rule.extent / d) + (r < rule.extent % d ? 1 : 0);
  const size = Math.min(rule.kernel, n);
  const qg = Math.floor(q / d);
  const kg = Math.floor(k / d);
  const s = rule.stride;
  if (rule.causal) {
    const leader = Math.min(Math.floor(qg / s) * s + s - 1, n - 1);
    return kg <= qg && leader - kg < size;
  }
  const left = Math.floor(size / 2);
  const right = Math.floor(size / 2) + (size % 2) - 1;
  const leader = Math.min(Math.floor(qg / s) * s + Math.floor(s / 2), n - 1);
  const centre = Math.min(Math.max(leader, left), n - 1 - right);
  return kg >= centre - left && kg <= centre + right;
}

/**
 * Neighborhood attention in 1D, 2D or 3D (NAT / NATTEN, with GNA's stride): tokens sit row-major on `grid`; a pair is
 * kept iff on every axis the key is in the query's window. Non-causal windows shift at the borders (every query sees
 * kernelSize keys per axis); causal ones are truncated at the start. Axes shorter than the kernel are seen whole.
 */
export const neighborhood = definePattern({
  name: 'neighborhood',
  summary: 'Neighborhood attention (NATTEN / GNA) in 1D, 2D or 3D with kernel size, dilation, stride and per-axis causality.',
  paper: PAPERS.gna,
  budget: { param: 'kernelSize', denser: 'higher' },
  params: paramsSchema,
  build: (p) => {
    const allCausal = Array.isArray(p.causal) ? p.causal.every(Boolean) : p.causal;
    return termPattern('neighborhood', allCausal, (shape) => {
      const { layout, rules } = axesFor(p, shape);
      const keeps = (q: number, k: number) => {
        for (let a = 0; a < rules.length; a++) {
          if (!keepsOnAxis(rules[a] as AxisRule, layout.coord(q, a), layout.coord(k, a))) return false;
        }
        return true;
      };
      return {
        maskMod: (_h, q, k) => keeps(q, k),
        layout: { classes: [[neighborhoodTerm(layout, rules, keeps)]] },
      };
    });
  },
});
