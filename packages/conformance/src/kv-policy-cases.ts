import {
  type AttendResult,
  type Backend,
  createHeadTensor,
  type HeadTensor,
  type KvPolicyPlugin,
  referenceDecode,
  referenceDecodePacked,
  SparselandError,
  TokenSelection,
} from '@sparseland/core';
import { createRng, KvMirror, type KvPolicy, type KvPolicyContext, LayerKvCache } from '@sparseland/core/kit';
import type { OnBackendCase, PluginCase } from './case.js';
import { metadataCase } from './metadata-case.js';
import { FP32_TOLERANCE, firstMismatch, type Tolerance } from './tolerance.js';

/** The geometry of one KV-policy run: heads, head dim, layers, prompt length and decode steps. */
export interface KvPolicyShape {
  readonly qHeads: number;
  readonly kvHeads: number;
  readonly dim: number;
  readonly layers: number;
  readonly prompt: number;
  readonly steps: number;
}

/** GQA 2:1 over several layers, a single kv head (MQA), and MHA with an odd head dim and a short prompt. */
export const DEFAULT_KV_POLICY_SHAPES: readonly KvPolicyShape[] = Object.freeze([
  { qHeads: 4, kvHeads: 2, dim: 16, layers: 4, prompt: 150, steps: 40 },
  { qHeads: 3, kvHeads: 1, dim: 8, layers: 2, prompt: 97, steps: 25 },
  { qHeads: 2, kvHeads: 2, dim: 7, layers: 1, prompt: 9, steps: 12 },
]);

export interface KvPolicyCaseOptions {
  /** Parameter sets checked besides the defaults; give small budgets so that the policy acts on these shapes. */
  readonly paramSets?: readonly Record<string, unknown>[];
  /** Parameter sets that must be refused with E_PARAMS (besides an unknown key, which every strict schema refuses). */
  readonly badParams?: readonly Record<string, unknown>[];
  readonly shapes?: readonly KvPolicyShape[];
}

/** One framework-free KV-policy case about the plugin alone: throws an Error naming the first violation. */
export type KvPolicyCase = PluginCase;

/** What one run recorded after each hook: per layer, positions held per kv head and positions read per head. */
export interface KvPolicyRecord {
  readonly hook: string;
  readonly held: number[][];
  readonly selected?: number[][] | undefined;
  readonly bytes: number;
}

/** Seeded inputs of a run: per layer, the prompt's q / k / v and each decode step's. */
export interface KvPolicyInputs {
  readonly prompt: { q: HeadTensor; k: HeadTensor; v: HeadTensor }[];
  readonly steps: { q: HeadTensor; k: HeadTensor; v: HeadTensor }[][];
}

function tensor(rng: ReturnType<typeof createRng>, heads: number, length: number, dim: number, scale: number): HeadTensor {
  const t = createHeadTensor(heads, length, dim);
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal() * scale;
  // A few heavy keys and a recurring direction make attention uneven, as in real models.
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < length; i += 7) t.data[(h * length + i) * dim] = (t.data[(h * length + i) * dim] as number) + 3;
  return t;
}

export function kvPolicyInputs(shape: KvPolicyShape, seed: number): KvPolicyInputs {
  const rng = createRng(seed);
  const rows = (n: number) => ({
    q: tensor(rng, shape.qHeads, n, shape.dim, 1.2),
    k: tensor(rng, shape.kvHeads, n, shape.dim, 1),
    v: tensor(rng, shape.kvHeads, n, shape.dim, 1),
  });
  return {
    prompt: Array.from({ length: shape.layers }, () => rows(shape.prompt)),
    steps: Array.from({ length: shape.steps }, () => Array.from({ length: shape.layers }, () => rows(1))),
  };
}

function fail(name: string, message: string): never {
  throw new Error(`${name}: ${message}`);
}

/**
 * Drives a policy through a prefill and decode steps over core's LayerKvCache, as the model runtime calls it, and
 * checks after every hook: the budget it reports holds (slots held, slots selected), the newest token is neither
 * dropped nor left unread, a selection is a valid subset of the cache, every head's storage is consistent (lengths,
 * unique positions that were written, full-precision rows equal to what was written, packed rows within a 2-bit
 * step of it, bytes no more than full precision), and the cache decodes through the float64 reference.
 */
export function runKvPolicy(
  name: string,
  policy: KvPolicy,
  shape: KvPolicyShape,
  inputs: KvPolicyInputs,
  session: object = {},
): KvPolicyRecord[] {
  return [...kvPolicyHooks(name, policy, shape, inputs, session)];
}

/** runKvPolicy one hook at a time: a generator, so two sessions can take turns through one policy object. */
export function* kvPolicyHooks(
  name: string,
  policy: KvPolicy,
  shape: KvPolicyShape,
  inputs: KvPolicyInputs,
  session: object = {},
): Generator<KvPolicyRecord> {
  const caches = Array.from({ length: shape.layers }, (_, l) => new LayerKvCache(l, shape.kvHeads, shape.dim));
  const check = (hook: string, cache: LayerKvCache, ctx: KvPolicyContext, selection: TokenSelection | undefined): KvPolicyRecord => {
    const where = `${hook}, layer ${cache.layer}`;
    const d = shape.dim;
    const held: number[][] = [];
    let slots = 0;
    let longest = 0;
    for (let g = 0; g < shape.kvHeads; g++) {
      const positions = Array.from(cache.positions(g));
      const n = cache.length(g);
      if (positions.length !== n || cache.keys(g).length !== n * d || cache.values(g).length !== n * d) {
        fail(name, `${where}: kv head ${g} holds ${n} slots but ${positions.length} positions and ${cache.keys(g).length / d} key rows`);
      }
      if (new Set(positions).size !== n) fail(name, `${where}: kv head ${g} holds a position twice`);
      for (const p of positions)
        if (!(p >= 0 && p <= ctx.position)) fail(name, `${where}: kv head ${g} holds position ${p}, never written`);
      if (!positions.includes(ctx.position)) fail(name, `${where}: kv head ${g} dropped the newest token (position ${ctx.position})`);
      checkRows(name, where, cache, g, inputs, shape);
      held.push(positions);
      slots += n;
      longest = Math.max(longest, n);
    }
    // bytes() counts what is held: exactly float32 rows + int32 positions without packed slots; with them, at least
    // the full-precision rows, the positions and 2-bit codes for every packed slot.
    let packedSlots = 0;
    for (let g = 0; g < shape.kvHeads; g++) packedSlots += cache.packedLength(g);
    const exact = (slots - packedSlots) * d * 2 * 4 + slots * 4;
    const least = exact + packedSlots * 2 * Math.ceil((d * 2) / 8);
    if (packedSlots === 0 ? cache.bytes() !== exact : cache.bytes() < least) {
      fail(
        name,
        `${where}: bytes() = ${cache.bytes()} for ${slots} slots (${packedSlots} packed); expected ${packedSlots === 0 ? exact : `at least ${least}`}`,
      );
    }
    const budget = policy.budget?.(cache, ctx) ?? {};
    // During a step (at select) the step's own token is in the cache before the policy evicts for it.
    const allowed = budget.slots === undefined ? undefined : budget.slots + (hook.startsWith('select') ? shape.kvHeads : 0);
    if (allowed !== undefined && slots > allowed) fail(name, `${where}: holds ${slots} slots over its kv heads, budget ${allowed}`);
    const stateBytes = policy.stateBytes?.(cache) ?? 0;
    if (!(stateBytes >= 0 && Number.isFinite(stateBytes))) fail(name, `${where}: stateBytes() = ${stateBytes}`);
    let selected: number[][] | undefined;
    if (selection !== undefined) {
      if (!(selection instanceof TokenSelection)) fail(name, `${where}: select() must return a TokenSelection or undefined`);
      if (selection.kvHeads !== shape.kvHeads || selection.kvLength !== longest) {
        fail(
          name,
          `${where}: selection over ${selection.kvHeads} kv heads and ${selection.kvLength} slots; the cache has ${shape.kvHeads} and ${longest}`,
        );
      }
      let total = 0;
      selected = held.map((positions, g) => {
        const chosen = selection.slotsOf(g);
        total += chosen.length;
        for (const s of chosen) if (s >= positions.length) fail(name, `${where}: kv head ${g} selected slot ${s} of ${positions.length}`);
        const read = Array.from(chosen, (s) => positions[s] as number);
        if (!read.includes(ctx.position)) fail(name, `${where}: kv head ${g}'s selection leaves out the newest token`);
        return read;
      });
      if (budget.selected !== undefined && total > budget.selected)
        fail(name, `${where}: selected ${total} slots, budget ${budget.selected}`);
    }
    return { hook: where, held, selected, bytes: cache.bytes() };
  };
  const decodes = (cache: LayerKvCache, q: HeadTensor, selection: TokenSelection | undefined, where: string) => {
    try {
      if (cache.hasPacked() && selection === undefined) referenceDecodePacked({ q, cache: cache.packedView() });
      else {
        const { k, v } = cache.gather();
        referenceDecode({ q, k, v }, { selection: selection ?? raggedAll(cache) });
      }
    } catch (error) {
      fail(name, `${where}: the cache does not decode through the reference: ${(error as Error).message}`);
    }
  };

  for (let l = 0; l < shape.layers; l++) {
    const rows = inputs.prompt[l] as KvPolicyInputs['prompt'][number];
    const cache = caches[l] as LayerKvCache;
    cache.append(rows.k, rows.v, 0);
    const ctx = { layer: l, layers: shape.layers, step: 0, position: shape.prompt - 1, session };
    policy.afterPrefill?.(cache, rows.q, ctx);
    yield check('afterPrefill', cache, ctx, undefined);
  }
  for (let i = 0; i < inputs.steps.length; i++) {
    const step = i + 1;
    const position = shape.prompt + i;
    for (let l = 0; l < shape.layers; l++) {
      const rows = (inputs.steps[i] as KvPolicyInputs['steps'][number])[l] as KvPolicyInputs['prompt'][number];
      const cache = caches[l] as LayerKvCache;
      cache.append(rows.k, rows.v, position);
      const ctx = { layer: l, layers: shape.layers, step, position, session };
      const selection = policy.select?.(cache, rows.q, ctx);
      yield check(`select at step ${step}`, cache, ctx, selection);
      decodes(cache, rows.q, selection, `step ${step}, layer ${l}`);
      policy.afterAppend?.(cache, rows.q, ctx);
      yield check(`afterAppend at step ${step}`, cache, ctx, undefined);
    }
  }
}

/** Every held slot of a ragged cache, as a selection over the longest head (undefined when not ragged). */
function raggedAll(cache: LayerKvCache): TokenSelection | undefined {
  const width = cache.maxLength();
  const lengths = Array.from({ length: cache.kvHeads }, (_, g) => cache.length(g));
  if (lengths.every((n) => n === width)) return undefined;
  return TokenSelection.fromLists(
    lengths.map((n) => Array.from({ length: n }, (_, s) => s)),
    width,
  );
}

/** Held rows are the rows written at their positions: exactly in full precision, within a 2-bit step when packed. */
function checkRows(name: string, where: string, cache: LayerKvCache, g: number, inputs: KvPolicyInputs, shape: KvPolicyShape): void {
  const d = shape.dim;
  const l = cache.layer;
  const positions = cache.positions(g);
  const packed = cache.packedLength(g);
  const keys = cache.keys(g);
  const values = cache.values(g);
  const original = (which: 'k' | 'v', p: number): Float32Array => {
    const rows = p < shape.prompt ? inputs.prompt[l]?.[which] : inputs.steps[p - shape.prompt]?.[l]?.[which];
    const length = p < shape.prompt ? shape.prompt : 1;
    const at = p < shape.prompt ? p : 0;
    return (rows as HeadTensor).data.subarray((g * length + at) * d, (g * length + at + 1) * d);
  };
  for (let s = 0; s < positions.length; s++) {
    const p = positions[s] as number;
    const k = original('k', p);
    const v = original('v', p);
    for (let c = 0; c < d; c++) {
      const dk = Math.abs((keys[s * d + c] as number) - (k[c] as number));
      const dv = Math.abs((values[s * d + c] as number) - (v[c] as number));
      // Rows here lie within about ±8; 2 bits over that range is a step of 16/3, half of it ~2.7.
      const tol = s < packed ? 2.7 : 0;
      if (dk > tol || dv > tol) {
        fail(
          name,
          `${where}: kv head ${g} slot ${s} (position ${p}) channel ${c} reads ${keys[s * d + c]} / ${values[s * d + c]}, written ${k[c]} / ${v[c]}`,
        );
      }
    }
  }
}

function sameRecords(a: readonly KvPolicyRecord[], b: readonly KvPolicyRecord[]): string | undefined {
  if (a.length !== b.length) return `${a.length} hooks vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = JSON.stringify(a[i]);
    const y = JSON.stringify(b[i]);
    if (x !== y) return `${a[i]?.hook}: ${x.slice(0, 200)} vs ${y.slice(0, 200)}`;
  }
  return undefined;
}

function describeParams(params: Record<string, unknown>): string {
  const text = JSON.stringify(params);
  return text === '{}' ? 'defaults' : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The conformance cases of a KV-policy plugin about the plugin alone: metadata and a strict params schema (the kit's
 * `metadataCase`); bad parameters refused with a
 * coded E_PARAMS; on every shape and parameter set the run invariants of `runKvPolicy`; the same records from the
 * same inputs (deterministic); and one policy object serving two sessions interleaved exactly as two separate runs
 * (state kept per cache and per session, never shared).
 */
export function kvPolicyCases(plugin: KvPolicyPlugin, options: KvPolicyCaseOptions = {}): KvPolicyCase[] {
  const shapes = options.shapes ?? DEFAULT_KV_POLICY_SHAPES;
  const paramSets = [{}, ...(options.paramSets ?? [])];
  const cases: KvPolicyCase[] = [
    metadataCase(plugin, 'kv-policy'),
    {
      name: 'bad parameters give a coded SparselandError (E_PARAMS)',
      async run() {
        for (const bad of [{ notAParameter: 1 }, ...(options.badParams ?? [])]) {
          try {
            plugin.build(plugin.parseParams(bad));
          } catch (error) {
            if (!(error instanceof SparselandError) || error.code !== 'E_PARAMS') {
              fail(this.name, `${JSON.stringify(bad)} threw ${(error as Error).message}, expected a SparselandError E_PARAMS`);
            }
            continue;
          }
          fail(this.name, `${JSON.stringify(bad)} was accepted`);
        }
      },
    },
  ];
  shapes.forEach((shape, si) => {
    const label = `${shape.qHeads}q/${shape.kvHeads}kv d${shape.dim}, ${shape.layers} layer(s), prompt ${shape.prompt} + ${shape.steps} steps`;
    for (const params of paramSets) {
      cases.push({
        name: `invariants (${describeParams(params)}; ${label}): budget, newest token, subset selections, consistent ragged storage`,
        async run() {
          runKvPolicy(this.name, plugin.build(plugin.parseParams(params)), shape, kvPolicyInputs(shape, 100 + si));
        },
      });
    }
    cases.push({
      name: `deterministic: the same inputs give the same caches and selections (${label})`,
      async run() {
        const params = paramSets[paramSets.length - 1] as Record<string, unknown>;
        const a = runKvPolicy(this.name, plugin.build(plugin.parseParams(params)), shape, kvPolicyInputs(shape, 7));
        const b = runKvPolicy(this.name, plugin.build(plugin.parseParams(params)), shape, kvPolicyInputs(shape, 7));
        const diff = sameRecords(a, b);
        if (diff) fail(this.name, `two runs differ: ${diff}`);
      },
    });
    cases.push({
      name: `one policy object serves two sessions independently (${label})`,
      async run() {
        const params = paramSets[paramSets.length - 1] as Record<string, unknown>;
        const one = runKvPolicy(this.name, plugin.build(plugin.parseParams(params)), shape, kvPolicyInputs(shape, 21));
        const two = runKvPolicy(this.name, plugin.build(plugin.parseParams(params)), shape, kvPolicyInputs(shape, 22));
        // The same policy object, both sessions' hooks interleaved step by step.
        const shared = plugin.build(plugin.parseParams(params));
        const interleaved = interleave(this.name, shared, shape, [kvPolicyInputs(shape, 21), kvPolicyInputs(shape, 22)]);
        const d1 = sameRecords(interleaved[0] as KvPolicyRecord[], one);
        const d2 = sameRecords(interleaved[1] as KvPolicyRecord[], two);
        if (d1 || d2) fail(this.name, `interleaved sessions differ from separate runs: ${d1 ?? d2}`);
      },
    });
  });
  return cases;
}

/** Two sessions through one policy object, their hooks alternating one by one. */
function interleave(name: string, policy: KvPolicy, shape: KvPolicyShape, runs: KvPolicyInputs[]): KvPolicyRecord[][] {
  const gens = runs.map((inputs) => kvPolicyHooks(name, policy, shape, inputs, {}));
  const out: KvPolicyRecord[][] = runs.map(() => []);
  for (let live = true; live; ) {
    live = false;
    gens.forEach((gen, i) => {
      const next = gen.next();
      if (next.done) return;
      live = true;
      (out[i] as KvPolicyRecord[]).push(next.value);
    });
  }
  return out;
}

/**
 * The cases of a KV-policy plugin on a backend: at every decode step of a run (the last parameter set, every shape),
 * the backend reads the policy's cache as the model runtime does — the backend's KV store mirroring the cache
 * (`KvMirror`: appended every step, heads rewritten after the policy's retain) decoded through the step's selection;
 * `decodePacked` for a cache with packed slots; the selected rows (`gatherSelected`) through `decode` for a selection
 * over packed slots — and must match the float64 reference reading the whole cache through the same selection.
 */
export function kvPolicyBackendCases(
  plugin: KvPolicyPlugin,
  options: KvPolicyCaseOptions & { tolerance?: Partial<Tolerance> } = {},
): OnBackendCase[] {
  const shapes = options.shapes ?? DEFAULT_KV_POLICY_SHAPES;
  const params = (options.paramSets ?? [])[Math.max(0, (options.paramSets?.length ?? 0) - 1)] ?? {};
  const tolerance: Tolerance = { ...FP32_TOLERANCE, ...options.tolerance };
  return shapes.map((shape) => ({
    name: `decoding the policy's caches matches the reference (${describeParams(params)}; ${shape.qHeads}q/${shape.kvHeads}kv d${shape.dim}, ${shape.layers} layer(s))`,
    async run(backend: Backend) {
      const policy = plugin.build(plugin.parseParams(params));
      const inputs = kvPolicyInputs(shape, 31);
      const caches = Array.from({ length: shape.layers }, (_, l) => new LayerKvCache(l, shape.kvHeads, shape.dim));
      const mirrors = await Promise.all(caches.map((cache) => KvMirror.create(backend, cache)));
      const session = {};
      inputs.prompt.forEach((rows, l) => {
        const cache = caches[l] as LayerKvCache;
        cache.append(rows.k, rows.v, 0);
        policy.afterPrefill?.(cache, rows.q, { layer: l, layers: shape.layers, step: 0, position: shape.prompt - 1, session });
      });
      for (let i = 0; i < inputs.steps.length; i++) {
        for (let l = 0; l < shape.layers; l++) {
          const rows = (inputs.steps[i] as KvPolicyInputs['steps'][number])[l] as KvPolicyInputs['prompt'][number];
          const cache = caches[l] as LayerKvCache;
          const ctx = { layer: l, layers: shape.layers, step: i + 1, position: shape.prompt + i, session };
          cache.append(rows.k, rows.v, ctx.position);
          const selection = policy.select?.(cache, rows.q, ctx);
          let got: AttendResult;
          let want: AttendResult;
          if (cache.hasPacked() && selection === undefined) {
            const packed = { q: rows.q, cache: cache.packedView() };
            got = await backend.decodePacked(packed);
            want = referenceDecodePacked(packed);
          } else {
            const { k, v } = cache.gather();
            const chosen = selection ?? raggedAll(cache);
            want = referenceDecode({ q: rows.q, k, v }, { selection: chosen });
            if (cache.hasPacked()) {
              const compact = cache.gatherSelected(selection as TokenSelection);
              got = await backend.decode({ q: rows.q, k: compact.k, v: compact.v }, { selection: compact.selection, causal: false });
            } else {
              const store = await (mirrors[l] as KvMirror).sync(cache);
              got = await store.decode(rows.q, { selection, causal: true });
            }
          }
          const where = `step ${i + 1}, layer ${l}`;
          const out = firstMismatch(got.output.data, want.output.data, tolerance.atol, tolerance.rtol, 'output');
          if (out) fail(this.name, `${where}: ${out}`);
          policy.afterAppend?.(cache, rows.q, ctx);
        }
      }
      for (const mirror of mirrors) mirror.dispose();
    },
  }));
}
