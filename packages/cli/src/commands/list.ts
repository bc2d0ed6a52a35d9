import type { PluginKind } from '@sparseland/core';
import { formatTable } from '@sparseland/eval';
import { backendValues } from '../backend.js';
import { quote } from '../cli-values.js';
import { UsageError } from '../exit-codes.js';
import { loadPlugins } from '../plugins.js';

const KINDS: readonly PluginKind[] = ['pattern', 'estimator', 'backend', 'kv-policy'];

export interface ListOptions {
  readonly kind?: string;
  readonly json?: boolean;
  readonly plugin?: string[];
}

/** `sparseland list`: every plugin with its summary and paper. */
export async function listCommand(options: ListOptions, out: (text: string) => void): Promise<void> {
  if (options.kind !== undefined && !KINDS.includes(options.kind as PluginKind)) {
    throw new UsageError(`--kind must be one of ${KINDS.join(', ')}, got ${quote(options.kind)}`);
  }
  const { registry, missing } = await loadPlugins(options.plugin);
  const described = registry.describe().filter((p) => options.kind === undefined || p.kind === options.kind);
  const showBackends = options.kind === undefined || options.kind === 'backend';
  const backends = backendValues(registry);
  if (options.json) {
    out(JSON.stringify({ plugins: described, ...(showBackends ? { backendValues: backends } : {}), notInstalled: missing }, null, 2));
    return;
  }
  out(
    formatTable(
      [
        { header: 'kind', cell: (p) => p.kind },
        { header: 'name', cell: (p) => p.name },
        { header: 'summary', cell: (p) => p.summary },
        {
          header: 'budget',
          cell: (p) => (typeof p.budget === 'object' ? `${p.budget.param} (${p.budget.denser} = denser)` : (p.budget ?? '')),
        },
        { header: 'paper', cell: (p) => (p.paper ? `${p.paper.title} (${p.paper.year}) ${p.paper.url}` : '') },
      ],
      described,
    ),
  );
  if (showBackends) out(`\n--backend accepts: ${backends.join(', ')}`);
  if (missing.length) out(`\nnot installed: ${missing.join(', ')} (add them with your package manager to get their plugins)`);
}
