import type { KvPolicyPlugin } from '@sparseland/core';
import { describe as vitestDescribe, it as vitestIt } from 'vitest';
import { type CaseFilters, exclusionReason } from './filters.js';
import { type KvPolicyCaseOptions, kvPolicyCases } from './kv-policy-cases.js';

export interface DescribeKvPolicyOptions extends KvPolicyCaseOptions {
  /** Cases to run or exclude, each exclusion with its written reason (shown as the skipped test's name). */
  readonly filters?: CaseFilters;
}

/**
 * Registers a vitest suite for a KV-policy plugin: metadata and a strict params schema, coded errors for bad
 * parameters, and on GQA / MQA / MHA shapes over several layers and every parameter set: the budget it reports holds
 * after every hook, the newest token is never dropped nor left unread, selections are subsets of the cache, ragged
 * and packed storage stays consistent with what was written, the cache decodes through the float64 reference, runs
 * are deterministic, and one policy object serves interleaved sessions independently.
 */
export function describeKvPolicy(plugin: KvPolicyPlugin, options: DescribeKvPolicyOptions = {}): void {
  const cases = kvPolicyCases(plugin, options);
  vitestDescribe(`conformance: kv-policy ${plugin.name}`, () => {
    for (const c of cases) {
      const reason = exclusionReason(c.name, options.filters);
      if (reason !== undefined) {
        vitestIt.skip(`${c.name} (excluded: ${reason})`, () => {});
        continue;
      }
      vitestIt(c.name, () => c.run());
    }
  });
}
