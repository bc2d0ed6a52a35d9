import type { KvPolicyPlugin } from '@sparseland/core';
import { type ConformanceOptions, REFERENCE_BACKEND } from './conformance-options.js';
import { describeSuite } from './describe-suite.js';
import { type KvPolicyCaseOptions, kvPolicyBackendCases, kvPolicyCases } from './kv-policy-cases.js';
import type { Tolerance } from './tolerance.js';

export interface DescribeKvPolicyOptions extends ConformanceOptions, KvPolicyCaseOptions {
  /** How far a backend's decode of the policy's caches may be from the reference's (default FP32_TOLERANCE). */
  readonly tolerance?: Partial<Tolerance>;
}

/**
 * Registers a vitest suite for a KV-policy plugin: metadata and a strict params schema, coded errors for bad
 * parameters, and on GQA / MQA / MHA shapes over several layers and every parameter set: the budget it reports holds
 * after every hook, the newest token is never dropped nor left unread, selections are subsets of the cache, ragged
 * and packed storage stays consistent with what was written, the cache decodes through the float64 reference, runs
 * are deterministic, and one policy object serves interleaved sessions independently. Then on each backend in
 * `backends` (default: core's float64 reference backend), decoding the policy's caches matches the reference.
 */
export function describeKvPolicy(plugin: KvPolicyPlugin, options: DescribeKvPolicyOptions = {}): void {
  const onBackend = kvPolicyBackendCases(plugin, options);
  describeSuite({
    title: `conformance: kv-policy ${plugin.name}`,
    filters: options.filters,
    subjectCases: kvPolicyCases(plugin, options),
    backends: options.backends ?? [REFERENCE_BACKEND],
    backendCases: () => onBackend,
  });
}
