import type { EstimatorPlugin } from '@sparseland/core';
import { anchor } from './estimators/anchor.js';
import { biformer } from './estimators/biformer.js';
import { blockSparse } from './estimators/block-sparse.js';
import { blockTopk } from './estimators/block-topk.js';
import { doubleSparsity } from './estimators/double-sparsity.js';
import { flexprefill } from './estimators/flexprefill.js';
import { hip } from './estimators/hip.js';
import { hyperattention } from './estimators/hyperattention.js';
import { moba } from './estimators/moba.js';
import { reformerLsh } from './estimators/reformer-lsh.js';
import { routing } from './estimators/routing.js';
import { sea } from './estimators/sea.js';
import { sparkTopk } from './estimators/spark-topk.js';
import { verticalSlash } from './estimators/vertical-slash.js';
import { zipvl } from './estimators/zipvl.js';

/** Every estimator of the package, in a stable order (the CLI and the playground register this list). */
export const estimators: readonly EstimatorPlugin[] = Object.freeze([
  verticalSlash,
  blockSparse,
  flexprefill,
  blockTopk,
  moba,
  biformer,
  hip,
  hyperattention,
  routing,
  reformerLsh,
  anchor,
  sea,
  sparkTopk,
  doubleSparsity,
  zipvl,
]);
