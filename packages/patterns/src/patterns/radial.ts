import { definePattern, type MaskShape } from '@sparseland/core';
import { flagParam, intParam } from '@sparseland/core/kit';
import { z } from 'zod';
import { sequenceLength, termPattern } from '../engine/pattern-instance.js';
import { Coverage, type RangeSink, type Term } from '../engine/term.js';
import { PAPERS } from '../papers.js';

const paramsSchema = z
  .object({
    tokensPerFrame: intParam(1, 3600, 'video tokens per frame (HunyuanVideo 720p: 45 × 80 = 3600)'),
    frames: z.number().int().min(0).optional().describe('video frames; default ⌊length / tokensPerFrame⌋; later tokens are text'),
    decayFactor: z.number().positive().default(1).describe('scales the spatial window (Hunyuan 1, Wan 0.2)'),
    model: z
      .enum(['hunyuan', 'wan'])
      .default('hunyuan')
      .describe('hunyuan: frames at distance <= 1 dense; wan: distance 1 keeps half a frame'),
    minWindow: intParam(1, 128, 'smallest spatial window and the density-halving threshold (the reference uses its block size, 128)'),
    sinkFrame: flagParam(true, 'frame 0 is an attention sink every query sees whole'),
  })
  .strict();

type RadialParams = z.output<typeof paramsSchema>;

const bitLength = (x: number) => (x === 0 ? 0 : 32 - Math.clz32(x));

/** Radial attention's rule for one call: spatial window and temporal keep-or-drop per frame distance. */
class RadialRule {
  readonly frameSize: number;
  readonly videoEnd: number;
  readonly frames: number;
  private readonly top: number;

  constructor(
    private readonly p: RadialParams,
    shape: MaskShape,
  ) {
    this.frameSize = p.tokensPerFrame;
    this.frames = p.frames ?? Math.floor(sequenceLength(shape) / p.tokensPerFrame);
    this.videoEnd = this.frames * this.frameSize;
    this.top = 2 ** bitLength(p.tokensPerFrame);
  }

  /** Largest |column − row| kept inside a frame pair at temporal distance `dist`. */
  width(dist: number): number {
    if (this.p.model === 'wan') {
      if (dist < 1) return this.frameSize;
      if (dist === 1) return Math.floor(this.frameSize / 2);
    } else if (dist <= 1) return this.frameSize;
    return Math.max((this.top / 2 ** bitLength(dist)) * this.p.decayFactor, this.p.minWindow);
  }

  /** Whether frame pairs at distance `dist` are kept at all (density halves band by band once windows get narrow). */
  keepsDistance(dist: number): boolean {
    const decay = this.top / 2 ** bitLength(dist);
    if (decay >= this.p.minWindow) return true;
    return dist % Math.floor(this.p.minWindow / decay) === 0;
  }

  isSink(keyFrame: number): boolean {
    return this.p.sinkFrame && keyFrame === 0;
  }
}

/**
 * Radial attention (video DiT), bidirectional: frame i's token r sees frame j's token c iff frame j is the sink
 * (frame 0), or frames at distance t = |i − j| are kept (the kept fraction halves with each band ⌊log2 t⌋ once the
 * window is narrow) and |c − r| <= w(t), where w(t) = max(2^bitlength(F) / 2^bitlength(t) · decay, minWindow): the
 * spatial window shrinks exponentially with temporal distance, O(n log n) pairs. Text tokens after the video see and
 * are seen by everything. The reference code then coarsens this token mask to 128-blocks with a density heuristic;
 * here the token mask itself is the definition.
 */
export const radial = definePattern({
  name: 'radial',
  summary: 'Radial attention: spatial window shrinking exponentially with temporal distance, frame 0 as sink, O(n log n).',
  paper: PAPERS.radial,
  budget: { param: 'decayFactor', denser: 'higher' },
  params: paramsSchema,
  build: (p) =>
    termPattern('radial', false, (shape) => {
      const rule = new RadialRule(p, shape);
      const f = rule.frameSize;
      return {
        maskMod: (_h, q, k) => {
          if (q >= rule.videoEnd || k >= rule.videoEnd) return true;
          const i = Math.floor(q / f);
          const j = Math.floor(k / f);
          if (rule.isSink(j)) return true;
          const dist = Math.abs(i - j);
          return rule.keepsDistance(dist) && Math.abs((k % f) - (q % f)) <= rule.width(dist);
        },
        layout: { classes: [[radialTerm(rule)]] },
      };
    }),
});

function radialTerm(rule: RadialRule): Term {
  const f = rule.frameSize;
  const v = rule.videoEnd;
  /** Coverage of rows [qa, qb] × keys [ka, kb] (inclusive, all video, one frame each side). */
  const framePair = (qa: number, qb: number, ka: number, kb: number): Coverage => {
    const i = Math.floor(qa / f);
    const j = Math.floor(ka / f);
    if (rule.isSink(j)) return Coverage.all;
    const dist = Math.abs(i - j);
    if (!rule.keepsDistance(dist)) return Coverage.none;
    const w = rule.width(dist);
    const r0 = qa - i * f;
    const r1 = qb - i * f;
    const c0 = ka - j * f;
    const c1 = kb - j * f;
    const nearest = c0 > r1 ? c0 - r1 : r0 > c1 ? r0 - c1 : 0;
    if (nearest > w) return Coverage.none;
    return Math.max(c1 - r0, r1 - c0) <= w ? Coverage.all : Coverage.some;
  };
  return {
    has(q, k) {
      if (q >= v || k >= v) return true;
      const state = framePair(q, q, k, k);
      return state === Coverage.all;
    },
    cover(q0, q1, k0, k1) {
      let all = true;
      let some = false;
      if (q1 > v || k1 > v) some = true; // text rows or text keys in the box are kept
      const qEnd = Math.min(q1, v);
      const kEnd = Math.min(k1, v);
      for (let qa = q0; qa < qEnd; qa = (Math.floor(qa / f) + 1) * f) {
        const qb = Math.min(qEnd, (Math.floor(qa / f) + 1) * f) - 1;
        for (let ka = k0; ka < kEnd; ka = (Math.floor(ka / f) + 1) * f) {
          const kb = Math.min(kEnd, (Math.floor(ka / f) + 1) * f) - 1;
          const c = framePair(qa, qb, ka, kb);
          if (c !== Coverage.all) all = false;
          if (c !== Coverage.none) some = true;
          if (some && !all) return Coverage.some;
        }
      }
      return all ? Coverage.all : some ? Coverage.some : Coverage.none;
    },
    keyRanges(q0, q1, kvLength, sink: RangeSink) {
      if (q1 > v) {
        sink(0, kvLength - 1);
        return;
      }
      if (kvLength > v) sink(v, kvLength - 1);
      const kEnd = Math.min(kvLength, v);
      for (let qa = q0; qa < q1; qa = (Math.floor(qa / f) + 1) * f) {
        const i = Math.floor(qa / f);
        const r0 = qa - i * f;
        const r1 = Math.min(q1, (i + 1) * f) - 1 - i * f;
        for (let j = 0; j * f < kEnd; j++) {
          let c0 = 0;
          let c1 = f - 1;
          if (!rule.isSink(j)) {
            const dist = Math.abs(i - j);
            if (!rule.keepsDistance(dist)) continue;
            const w = Math.floor(rule.width(dist));
            c0 = Math.max(0, r0 - w);
            c1 = Math.min(f - 1, r1 + w);
          }
          const a = j * f + c0;
          const b = Math.min(kEnd - 1, j * f + c1);
          if (a <= b) sink(a, b);
        }
      }
    },
  };
}
