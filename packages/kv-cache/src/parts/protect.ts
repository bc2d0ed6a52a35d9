import type { KvCacheLayer } from '@sparseland/core/kit';

/** Slots a policy never drops: the first `sink` tokens (attention sinks) and the last `recent` tokens written. */
export interface Protect {
  readonly sink?: number;
  readonly recent?: number;
}

/**
 * 1 for the slots of kv head g that are protected: position < sink, or among the last `recent` tokens written
 * (position >= written − recent). The newest token is always protected (a policy must never drop it).
 */
export function protectedSlots(cache: KvCacheLayer, g: number, protect: Protect): Uint8Array {
  const positions = cache.positions(g);
  const newest = cache.written() - 1;
  const sink = protect.sink ?? 0;
  const recentFrom = newest - Math.max(1, protect.recent ?? 0) + 1;
  const out = new Uint8Array(positions.length);
  for (let s = 0; s < positions.length; s++) {
    const p = positions[s] as number;
    if (p < sink || p >= recentFrom) out[s] = 1;
  }
  return out;
}
