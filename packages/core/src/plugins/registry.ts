import { z } from 'zod';
import { describeValue, SparselandError } from '../errors.js';
import { closestName } from './closest-name.js';
import type { AnyPlugin, PaperRef, PluginBudget, PluginKind, PluginOfKind } from './types.js';

/** What `createRegistry` accepts: plugins, nested arrays (presets), and falsy entries (easy toggling). */
export type PluginInput = AnyPlugin | false | null | undefined | readonly PluginInput[];

/** A plugin described as JSON: the playground builds its forms from `params` (a JSON schema). */
export interface PluginDescription {
  readonly kind: PluginKind;
  readonly name: string;
  readonly summary: string;
  readonly paper?: PaperRef | undefined;
  readonly params: Record<string, unknown>;
  /** Patterns and estimators: their budget knob, `'none'`, or absent when the plugin does not say. */
  readonly budget?: PluginBudget | undefined;
}

export interface Registry {
  /** The plugin of that kind and name; throws E_UNKNOWN_PLUGIN with the closest name when missing. */
  get<K extends PluginKind>(kind: K, name: string): PluginOfKind<K>;
  has(kind: PluginKind, name: string): boolean;
  /** Plugins of one kind (or all), in registration order. */
  list<K extends PluginKind>(kind?: K): PluginOfKind<K>[];
  describe(): PluginDescription[];
}

const KINDS: readonly PluginKind[] = ['pattern', 'estimator', 'backend', 'kv-policy'];

function flatten(input: PluginInput, out: AnyPlugin[]): void {
  if (!input) return;
  if (Array.isArray(input)) {
    for (const item of input) flatten(item, out);
    return;
  }
  const p = input as AnyPlugin;
  if (typeof p !== 'object' || !KINDS.includes(p.kind) || typeof p.name !== 'string') {
    throw new SparselandError(
      'E_PARAMS',
      `createRegistry: every plugin must come from definePattern/defineEstimator/defineBackend/defineKvPolicy, got ${describeValue(input)}`,
    );
  }
  out.push(p);
}

/**
 * An explicit registry: no global singleton, no import side effects. Names are unique per kind; registering the
 * same name twice throws E_DUPLICATE_PLUGIN.
 */
export function createRegistry(options: { plugins: PluginInput }): Registry {
  const all: AnyPlugin[] = [];
  flatten(options?.plugins, all);
  const byKey = new Map<string, AnyPlugin>();
  for (const p of all) {
    const key = `${p.kind}:${p.name}`;
    if (byKey.has(key)) {
      throw new SparselandError(
        'E_DUPLICATE_PLUGIN',
        `a ${p.kind} named "${p.name}" is already registered; plugin names must be unique per kind`,
        {
          kind: p.kind,
          name: p.name,
        },
      );
    }
    byKey.set(key, p);
  }
  const registry: Registry = {
    get(kind, name) {
      const p = byKey.get(`${kind}:${name}`);
      if (p) return p as PluginOfKind<typeof kind>;
      const names = all.filter((x) => x.kind === kind).map((x) => x.name);
      const suggestion = closestName(name, names);
      const hint = suggestion ? ` Did you mean "${suggestion}"?` : '';
      const known = names.length ? ` Known ${kind}s: ${names.join(', ')}.` : ` No ${kind} is registered.`;
      throw new SparselandError('E_UNKNOWN_PLUGIN', `unknown ${kind} ${describeValue(name)}.${hint}${known}`, {
        kind,
        name,
        suggestion,
        known: names,
      });
    },
    has(kind, name) {
      return byKey.has(`${kind}:${name}`);
    },
    list(kind) {
      return all.filter((p) => kind === undefined || p.kind === kind) as PluginOfKind<NonNullable<typeof kind>>[];
    },
    describe() {
      return all.map((p) => ({
        kind: p.kind,
        name: p.name,
        summary: p.summary,
        paper: p.paper,
        params: paramsJsonSchema(p.params),
        ...((p.kind === 'pattern' || p.kind === 'estimator') && p.budget !== undefined ? { budget: p.budget } : {}),
      }));
    },
  };
  return Object.freeze(registry);
}

/** JSON schema of a plugin's parameters (input side: defaults shown, optional fields optional). */
export function paramsJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
