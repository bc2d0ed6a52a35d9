import { z } from 'zod';
import type { Backend } from '../backend.js';
import { SparselandError } from '../errors.js';
import { referenceDecodePacked } from '../kv/packed-decode.js';
import { defineBackend } from '../plugins/define.js';
import { resolveAttendCall, resolveDecodeCall } from './attend-call.js';
import { createHostKvStore } from './kv-store.js';
import { createHostLinear } from './linear.js';
import { referenceAttendCall, referenceDecode, referenceDecodeCall } from './reference-attention.js';
import {
  referenceLastQueriesAttention,
  referenceLastQueriesSums,
  referencePooledScores,
  referenceQuantizedScores,
} from './reference-ops.js';
import { referenceScores } from './reference-scores.js';

/**
 * The float64 reference as a Backend: slow, exact, everywhere. It is what `attention()` runs on when no faster
 * backend is given, and what the conformance kit compares every other backend with. Linear layers sum in float64
 * over a view of the weights; its KV store keeps per-head arrays and decodes them with `referenceDecode`.
 */
export function createReferenceBackend(): Backend {
  let disposed = false;
  const live = (): void => {
    if (disposed) throw new SparselandError('E_BACKEND_UNAVAILABLE', 'the reference backend was used after dispose(); create a new one');
  };
  return Object.freeze({
    name: 'reference',
    impl: 'float64',
    async attend(input, options = {}) {
      live();
      return referenceAttendCall(resolveAttendCall(input, options));
    },
    async decode(input, options = {}) {
      live();
      return referenceDecodeCall(resolveDecodeCall(input, options));
    },
    async decodePacked(input, options = {}) {
      live();
      return referenceDecodePacked(input, options);
    },
    async pooledScores(input, options) {
      live();
      return referencePooledScores(input, options);
    },
    async lastQueriesAttention(input, options) {
      live();
      return referenceLastQueriesAttention(input, options);
    },
    async lastQueriesSums(input, options) {
      live();
      return referenceLastQueriesSums(input, options);
    },
    async quantizedScores(input, options) {
      live();
      return referenceQuantizedScores(input, options);
    },
    async scores(input, options) {
      live();
      return referenceScores(input, options);
    },
    async prepareLinear(weights, shape) {
      live();
      return createHostLinear(weights, shape, live);
    },
    async createKvStore(shape) {
      live();
      return createHostKvStore(shape, async (input, options) => referenceDecode(input, { ...options, checkFinite: false }), live);
    },
    async dispose() {
      disposed = true;
    },
  } satisfies Backend);
}

/** The reference backend as a plugin (lowest priority: `auto` only picks it when nothing else runs). */
export const referenceBackend = defineBackend({
  name: 'reference',
  summary: 'Exact float64 attention in plain TypeScript: the oracle every other backend is tested against.',
  params: z.object({}).strict(),
  priority: 0,
  isSupported: async () => true,
  create: async () => createReferenceBackend(),
});
