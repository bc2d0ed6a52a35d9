import type { KvCacheLayer } from '@sparseland/core/kit';

/**
 * Per-cache state of a policy or scorer, created on first use. Keyed by the cache object, so one policy object can
 * serve several sessions (each has its own caches) and per-head views (each view is its own object).
 */
export function perCache<T>(create: (cache: KvCacheLayer) => T): (cache: KvCacheLayer) => T {
  const states = new WeakMap<KvCacheLayer, T>();
  return (cache) => {
    let state = states.get(cache);
    if (state === undefined) {
      state = create(cache);
      states.set(cache, state);
    }
    return state;
  };
}
