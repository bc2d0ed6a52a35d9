import { type Backend, type BackendPlugin, paramsJsonSchema, type Registry, SparselandError } from '@sparseland/core';
import { closestName } from '@sparseland/core/kit';
import { quote } from './cli-values.js';
import { UsageError } from './exit-codes.js';

/**
 * What `--backend` accepts for one backend plugin: its name, and `name:variant` for each value of its first enum
 * parameter (gpujs's `mode`: `gpujs:webgpu`, `gpujs:webasm`, …; cpu's `impl`: `cpu:wasm`, `cpu:ts`), `auto` left out.
 */
export interface BackendChoice {
  readonly name: string;
  /** The parameter a variant sets, when the backend has one. */
  readonly param?: string;
  readonly variants: readonly string[];
}

/** The backend plugin's name and variants, read from its params schema. */
export function backendChoice(plugin: BackendPlugin): BackendChoice {
  const schema = paramsJsonSchema(plugin.params) as { properties?: Record<string, { enum?: unknown[] }> };
  const found = Object.entries(schema.properties ?? {}).find(
    ([, p]) => Array.isArray(p.enum) && p.enum.every((v) => typeof v === 'string'),
  );
  if (!found) return { name: plugin.name, variants: [] };
  const [param, p] = found;
  return { name: plugin.name, param, variants: (p.enum as string[]).filter((v) => v !== 'auto') };
}

/** Every value `--backend` accepts here, `auto` first (what `sparseland list` prints). */
export function backendValues(registry: Registry): string[] {
  const values = ['auto'];
  for (const plugin of registry.list('backend')) {
    const choice = backendChoice(plugin);
    values.push(choice.name, ...choice.variants.map((v) => `${choice.name}:${v}`));
  }
  return values;
}

/**
 * `auto`: the highest-priority backend that runs here (a GPU backend that finds a GPU, else cpu when installed, else
 * the float64 reference). `name`: that backend, which must run here; `name:variant`: that backend with the variant
 * (gpujs:webasm runs anywhere; gpujs:webgpu needs a WebGPU adapter). A named backend or variant that cannot run is
 * an error (E_BACKEND_UNAVAILABLE), never a silent fallback.
 */
export async function chooseBackend(registry: Registry, spec: string): Promise<Backend> {
  const backends = registry.list('backend');
  if (spec === 'auto') {
    const ranked = [...backends].sort((a, b) => b.priority - a.priority);
    for (const plugin of ranked) if (await plugin.isSupported()) return plugin.create({});
    throw new SparselandError('E_BACKEND_UNAVAILABLE', 'no backend runs here');
  }
  const [name = '', variant, ...extra] = spec.split(':');
  const plugin = backends.find((b) => b.name === name);
  if (!plugin) {
    const names = backends.map((b) => b.name);
    const suggestion = closestName(name, names);
    throw new SparselandError(
      'E_UNKNOWN_PLUGIN',
      `unknown backend ${quote(name)}.${suggestion ? ` Did you mean "${suggestion}"?` : ''} Installed backends: ${names.join(', ')}, or auto`,
    );
  }
  const choice = backendChoice(plugin);
  const listed = choice.variants.map((v) => `${name}:${v}`).join(', ');
  if (variant !== undefined) {
    if (extra.length > 0 || choice.param === undefined || !choice.variants.includes(variant)) {
      throw new UsageError(
        `--backend ${spec}: ${choice.param === undefined ? `the ${name} backend has no variants` : `expected one of ${listed}`}`,
      );
    }
    return plugin.create({ [choice.param]: variant });
  }
  if (!(await plugin.isSupported())) {
    const others = listed ? `; try --backend auto or one of ${listed}` : '; try --backend auto';
    throw new SparselandError('E_BACKEND_UNAVAILABLE', `the ${name} backend says it cannot run here${others}`);
  }
  return plugin.create({});
}
