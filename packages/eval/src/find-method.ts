import { DENSE_METHOD, type EstimatorPlugin, type PatternPlugin, type Registry, SparselandError } from '@sparseland/core';
import { closestName, describeValue } from '@sparseland/core/kit';

/** Every method name a recipe may use with this registry: `dense`, the patterns, then the estimators. */
export function methodNames(registry: Registry): string[] {
  return [DENSE_METHOD, ...registry.list('pattern').map((p) => p.name), ...registry.list('estimator').map((p) => p.name)];
}

/**
 * The pattern or estimator called `name`; throws E_UNKNOWN_PLUGIN naming the closest method (patterns and
 * estimators together) and every known one.
 */
export function findMethod(registry: Registry, name: string): PatternPlugin | EstimatorPlugin {
  if (registry.has('pattern', name)) return registry.get('pattern', name);
  if (registry.has('estimator', name)) return registry.get('estimator', name);
  const known = methodNames(registry).filter((n) => n !== DENSE_METHOD);
  const suggestion = closestName(name, known);
  throw new SparselandError(
    'E_UNKNOWN_PLUGIN',
    `unknown method ${describeValue(name)}.${suggestion ? ` Did you mean "${suggestion}"?` : ''} Known methods: ${known.join(', ') || '(none registered)'}`,
    { name, suggestion, known },
  );
}
