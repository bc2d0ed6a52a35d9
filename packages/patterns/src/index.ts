// Every pattern plugin, and the list the CLI and playground register.
export { patterns } from './all.js';
// Building blocks for pattern authors: integer sets and terms, and the exact fast builder over them.
export type { TermLayout } from './engine/build-term-mask.js';
export { buildTermMask, buildTermSparseMask } from './engine/build-term-mask.js';
export type { IntSet } from './engine/int-set.js';
export { IntervalSet, PeriodicSet, ReflectedSet, UnionSet } from './engine/int-set.js';
export type { CompiledPattern } from './engine/pattern-instance.js';
export { termPattern } from './engine/pattern-instance.js';
export type { RangeSink, Term } from './engine/term.js';
export { Coverage } from './engine/term.js';
export { blockGridTerm } from './engine/terms/block-grid-term.js';
export { columnsTerm } from './engine/terms/columns-term.js';
export { diagonalTerm } from './engine/terms/diagonal-term.js';
export { rowsTerm } from './engine/terms/rows-term.js';
export { aShape } from './patterns/a-shape.js';
export { alibi, alibiSlopes } from './patterns/alibi.js';
export { bigbird } from './patterns/bigbird.js';
export { causal } from './patterns/causal.js';
export { combiner } from './patterns/combiner.js';
export { dilatedWindow } from './patterns/dilated-window.js';
export { fixed } from './patterns/fixed.js';
export { full } from './patterns/full.js';
export { grid } from './patterns/grid.js';
export { longformer } from './patterns/longformer.js';
export { moa } from './patterns/moa.js';
export { neighborhood } from './patterns/neighborhood/neighborhood.js';
export { powerAttention } from './patterns/power-attention.js';
export { radial } from './patterns/radial.js';
export { relativeBias, t5Bucket } from './patterns/relative-bias.js';
export { s2Attention } from './patterns/s2-attention.js';
export { selectiveTemperature } from './patterns/selective-temperature.js';
export { slidingWindow } from './patterns/sliding-window.js';
export { sparseVdit } from './patterns/sparse-vdit.js';
export { strided } from './patterns/strided.js';
export { triShape } from './patterns/tri-shape.js';
// MASFormer-style per-layer mixes.
export type { MasformerOptions } from './recipes/masformer.js';
export { masformerRecipe } from './recipes/masformer.js';
// Pictures of masks.
export type { Palette } from './render/encode.js';
export { DEFAULT_PALETTE } from './render/encode.js';
export type { MaskRaster, RasterOptions, RenderableMask } from './render/raster.js';
export { rasterize } from './render/raster.js';
export type { RenderMaskOptions } from './render/render-mask.js';
export { renderMask } from './render/render-mask.js';
