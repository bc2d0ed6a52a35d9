import { SparselandError } from '../errors.js';
import type { KvBudget, KvCacheLayer, KvPolicy, KvPolicyContext } from '../kv-policy.js';
import { TokenSelection } from '../masks/token-selection.js';
import type { HeadTensor } from '../tensor/head-tensor.js';

/**
 * A KvCacheLayer restricted to some of a layer's kv heads (view head i is `heads[i]` of the cache): how a per-head
 * recipe gives each policy only the heads it owns. Views are memoised per (cache, heads) so a policy's per-cache
 * state survives from one hook to the next.
 */
export function kvHeadView(cache: KvCacheLayer, heads: readonly number[]): KvCacheLayer {
  const key = heads.join(',');
  let views = VIEWS.get(cache);
  if (!views) {
    views = new Map();
    VIEWS.set(cache, views);
  }
  const known = views.get(key);
  if (known) return known;
  for (const g of heads) {
    if (!Number.isInteger(g) || g < 0 || g >= cache.kvHeads) {
      throw new SparselandError('E_PARAMS', `kv head ${g} is outside layer ${cache.layer}'s ${cache.kvHeads} kv heads`);
    }
  }
  const map = (g: number): number => {
    const h = heads[g];
    if (h === undefined) throw new SparselandError('E_PARAMS', `kv head must be an integer in [0, ${heads.length}), got ${g}`);
    return h;
  };
  const view: KvCacheLayer = Object.freeze({
    layer: cache.layer,
    kvHeads: heads.length,
    dim: cache.dim,
    length: (g: number) => cache.length(map(g)),
    written: () => cache.written(),
    keys: (g: number) => cache.keys(map(g)),
    values: (g: number) => cache.values(map(g)),
    positions: (g: number) => cache.positions(map(g)),
    packedLength: (g: number) => cache.packedLength(map(g)),
    retain: (g: number, slots: Int32Array) => cache.retain(map(g), slots),
    pack: (g: number, slots: Int32Array, options: Parameters<KvCacheLayer['pack']>[2]) => cache.pack(map(g), slots, options),
    packedView: () => {
      const all = cache.packedView();
      return { kvHeads: heads.length, dim: all.dim, heads: heads.map((g) => all.heads[g] as (typeof all.heads)[number]) };
    },
    bytes: () => {
      // The view's share: its heads' slots (exact for full precision, proportional for packed caches).
      let mine = 0;
      let all = 0;
      for (let g = 0; g < cache.kvHeads; g++) all += cache.length(g);
      for (const g of heads) mine += cache.length(g);
      return all === 0 ? 0 : (cache.bytes() * mine) / all;
    },
  });
  views.set(key, view);
  return view;
}

const VIEWS = new WeakMap<KvCacheLayer, Map<string, KvCacheLayer>>();

/** Which policy each group of a layer's kv heads uses (undefined: the full cache, no hooks). */
export interface KvHeadGroup {
  readonly policy: KvPolicy | undefined;
  readonly heads: readonly number[];
}

/**
 * One KvPolicy that runs a different policy on each group of kv heads of each layer (DuoAttention's retrieval and
 * streaming heads, per-layer recipes). Selections of the groups are merged into one TokenSelection; heads whose
 * policy selects nothing read all their slots.
 */
export function routeKvPolicies(name: string, groupsOf: (layer: number, kvHeads: number) => readonly KvHeadGroup[]): KvPolicy {
  const views = (cache: KvCacheLayer): { policy: KvPolicy | undefined; heads: readonly number[]; view: KvCacheLayer; whole: boolean }[] =>
    groupsOf(cache.layer, cache.kvHeads).map((group) => {
      const whole = group.heads.length === cache.kvHeads && group.heads.every((g, i) => g === i);
      return { ...group, whole, view: whole ? cache : kvHeadView(cache, group.heads) };
    });
  // A view's policy sees only the query heads of its kv heads, in order, so GQA grouping stays h -> floor(h / group).
  const queriesOf = (queries: HeadTensor, cache: KvCacheLayer, heads: readonly number[], whole: boolean): HeadTensor => {
    if (whole) return queries;
    const group = queries.heads / cache.kvHeads;
    const rows = queries.length * queries.dim;
    const data = new Float32Array(heads.length * group * rows);
    heads.forEach((g, i) => {
      data.set(queries.data.subarray(g * group * rows, (g + 1) * group * rows), i * group * rows);
    });
    return { data, heads: heads.length * group, length: queries.length, dim: queries.dim };
  };
  return Object.freeze({
    name,
    afterPrefill(cache: KvCacheLayer, queries: HeadTensor, ctx: KvPolicyContext) {
      for (const { policy, view, heads, whole } of views(cache)) policy?.afterPrefill?.(view, queriesOf(queries, cache, heads, whole), ctx);
    },
    select(cache: KvCacheLayer, query: HeadTensor, ctx: KvPolicyContext): TokenSelection | undefined {
      const lists: (Int32Array | undefined)[] = new Array(cache.kvHeads).fill(undefined);
      let any = false;
      for (const { policy, heads, view, whole } of views(cache)) {
        const selection = policy?.select?.(view, queriesOf(query, cache, heads, whole), ctx);
        if (!selection) continue;
        any = true;
        heads.forEach((g, i) => {
          lists[g] = selection.slotsOf(i);
        });
      }
      if (!any) return undefined;
      let width = 0;
      for (let g = 0; g < cache.kvHeads; g++) width = Math.max(width, cache.length(g));
      return TokenSelection.fromLists(
        lists.map((l, g) => l ?? Int32Array.from({ length: cache.length(g) }, (_, s) => s)),
        width,
      );
    },
    afterAppend(cache: KvCacheLayer, query: HeadTensor, ctx: KvPolicyContext) {
      for (const { policy, view, heads, whole } of views(cache)) policy?.afterAppend?.(view, queriesOf(query, cache, heads, whole), ctx);
    },
    budget(cache: KvCacheLayer, ctx: KvPolicyContext): KvBudget {
      let slots: number | undefined = 0;
      let selected: number | undefined = 0;
      for (const { policy, view } of views(cache)) {
        const b = policy?.budget?.(view, ctx) ?? {};
        slots = slots === undefined || b.slots === undefined ? undefined : slots + b.slots;
        selected = selected === undefined || b.selected === undefined ? undefined : selected + b.selected;
      }
      return { slots, selected };
    },
    stateBytes(cache: KvCacheLayer): number {
      let bytes = 0;
      for (const { policy, view } of views(cache)) bytes += policy?.stateBytes?.(view) ?? 0;
      return bytes;
    },
  } satisfies KvPolicy);
}
