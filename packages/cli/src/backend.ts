import { type Backend, type Registry, SparselandError } from '@sparseland/core';
import { closestName } from '@sparseland/core/kit';

/**
 * `auto`: the highest-priority backend that runs here (cpu when installed, else the float64 reference). A named
 * backend that cannot run is an error (E_BACKEND_UNAVAILABLE), never a silent fallback.
 */
export async function chooseBackend(registry: Registry, name: string): Promise<Backend> {
  const backends = registry.list('backend');
  if (name === 'auto') {
    const ranked = [...backends].sort((a, b) => b.priority - a.priority);
    for (const plugin of ranked) if (await plugin.isSupported()) return plugin.create({});
    throw new SparselandError('E_BACKEND_UNAVAILABLE', 'no backend runs here');
  }
  const plugin = backends.find((b) => b.name === name);
  if (!plugin) {
    const names = backends.map((b) => b.name);
    const suggestion = closestName(name, names);
    throw new SparselandError(
      'E_UNKNOWN_PLUGIN',
      `unknown backend "${name}".${suggestion ? ` Did you mean "${suggestion}"?` : ''} Installed backends: ${names.join(', ')}, or auto`,
    );
  }
  if (!(await plugin.isSupported())) {
    throw new SparselandError('E_BACKEND_UNAVAILABLE', `the ${name} backend cannot run here; try --backend auto`);
  }
  return plugin.create({});
}
