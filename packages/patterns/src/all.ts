import type { PatternPlugin } from '@sparseland/core';
import { aShape } from './patterns/a-shape.js';
import { alibi } from './patterns/alibi.js';
import { bigbird } from './patterns/bigbird.js';
import { causal } from './patterns/causal.js';
import { combiner } from './patterns/combiner.js';
import { dilatedWindow } from './patterns/dilated-window.js';
import { fixed } from './patterns/fixed.js';
import { full } from './patterns/full.js';
import { grid } from './patterns/grid.js';
import { longformer } from './patterns/longformer.js';
import { moa } from './patterns/moa.js';
import { neighborhood } from './patterns/neighborhood/neighborhood.js';
import { powerAttention } from './patterns/power-attention.js';
import { radial } from './patterns/radial.js';
import { relativeBias } from './patterns/relative-bias.js';
import { s2Attention } from './patterns/s2-attention.js';
import { selectiveTemperature } from './patterns/selective-temperature.js';
import { slidingWindow } from './patterns/sliding-window.js';
import { sparseVdit } from './patterns/sparse-vdit.js';
import { strided } from './patterns/strided.js';
import { triShape } from './patterns/tri-shape.js';

/**
 * Every pattern of the package in a stable order (masks first, then score modifiers). The CLI and the playground
 * build their registries from it: `createRegistry({ plugins: patterns })`.
 */
export const patterns: readonly PatternPlugin[] = Object.freeze([
  full,
  causal,
  slidingWindow,
  dilatedWindow,
  aShape,
  triShape,
  strided,
  fixed,
  longformer,
  bigbird,
  neighborhood,
  s2Attention,
  moa,
  powerAttention,
  radial,
  sparseVdit,
  grid,
  combiner,
  alibi,
  relativeBias,
  selectiveTemperature,
] as PatternPlugin[]);
