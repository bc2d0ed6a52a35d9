import { createRegistry } from '@sparseland/core';
import { estimators } from '@sparseland/estimators';
import { kvPolicies } from '@sparseland/kv-cache';
import { patterns } from '@sparseland/patterns';

/**
 * The plugins the playground offers. Forms, pickers and sweeps are generated from `registry.describe()`, so a plugin
 * added to one of these lists appears without other changes; a new plugin package is one more entry here.
 */
export const registry = createRegistry({ plugins: [patterns, estimators, kvPolicies] });
