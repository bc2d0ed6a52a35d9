// Every estimator plugin, and the list the CLI and playground register.
export { estimators } from './all.js';
export { anchor } from './estimators/anchor.js';
export { biformer } from './estimators/biformer.js';
export { blockSparse } from './estimators/block-sparse.js';
export { blockTopk } from './estimators/block-topk.js';
export { doubleSparsity } from './estimators/double-sparsity.js';
// Double Sparsity's offline channel calibration.
export type { ChannelCalibrationItem } from './estimators/double-sparsity-channels.js';
export { calibrateChannels, channelImportance, doubleSparsityRecipe, topChannels } from './estimators/double-sparsity-channels.js';
export { flexprefill } from './estimators/flexprefill.js';
export { hip } from './estimators/hip.js';
export { hyperattention } from './estimators/hyperattention.js';
export { moba } from './estimators/moba.js';
export { reformerLsh } from './estimators/reformer-lsh.js';
export { routing } from './estimators/routing.js';
export { sea } from './estimators/sea.js';
export { sparkTopk } from './estimators/spark-topk.js';
export { verticalSlash } from './estimators/vertical-slash.js';
export { zipvl } from './estimators/zipvl.js';
export { PAPERS } from './papers.js';
// Re-ttention: the option every estimator can get (`withRettention`), the correction it returns, and the wrapper
// for any recipe or mask.
export type { RettentionParam } from './rettention/correction.js';
export { rettentionCorrection } from './rettention/correction.js';
export type { RettentionOptions, RettentionResult } from './rettention/rettention-attention.js';
export { rettentionAttention } from './rettention/rettention-attention.js';
export type { WithRettentionParams } from './rettention/with-rettention.js';
export { withRettention } from './rettention/with-rettention.js';
