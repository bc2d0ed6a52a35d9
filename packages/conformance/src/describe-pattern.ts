import type { PatternPlugin } from '@sparseland/core';
import { type ConformanceOptions, REFERENCE_BACKEND } from './conformance-options.js';
import { describeSuite } from './describe-suite.js';
import { metadataCase } from './metadata-case.js';
import { type PatternCaseOptions, patternBackendCases, patternCases } from './pattern-cases.js';

export interface DescribePatternOptions extends ConformanceOptions, PatternCaseOptions {}

/**
 * Registers a vitest suite for a pattern plugin: metadata and params schema; for the defaults and every parameter
 * set, the fast builder equal to its exact MaskMod on odd shapes and several block sizes, deterministic, with no
 * look-ahead when the pattern declares itself causal; and on each backend in `backends` (default: core's float64
 * reference backend) attention through its mask equal to the reference attention of its MaskMod.
 */
export function describePattern(plugin: PatternPlugin, options: DescribePatternOptions = {}): void {
  const onBackend = patternBackendCases(plugin, options);
  describeSuite({
    title: `conformance: pattern ${plugin.name}`,
    filters: options.filters,
    subjectCases: [metadataCase(plugin, 'pattern'), ...patternCases(plugin, options)],
    backends: options.backends ?? [REFERENCE_BACKEND],
    backendCases: () => onBackend,
  });
}
