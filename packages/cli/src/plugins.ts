import { pathToFileURL } from 'node:url';
import { type AnyPlugin, createRegistry, type PluginInput, type Registry, referenceBackend } from '@sparseland/core';
import { UsageError } from './exit-codes.js';

/**
 * Plugin packages the CLI uses when they are installed, and the export that holds their plugins. Adding a package
 * is one line here (and a dependency in package.json).
 */
export const PLUGIN_PACKAGES: readonly { readonly name: string; readonly exportName: string }[] = [
  { name: '@sparseland/patterns', exportName: 'patterns' },
  { name: '@sparseland/backend-cpu', exportName: 'cpuBackend' },
  { name: '@sparseland/estimators', exportName: 'estimators' },
  { name: '@sparseland/kv-cache', exportName: 'kvPolicies' },
  { name: '@sparseland/estimator-lowbit', exportName: 'lowbitEstimators' },
  { name: '@sparseland/estimator-gate', exportName: 'gateEstimators' },
];

export interface LoadedPlugins {
  readonly registry: Registry;
  /** Packages from PLUGIN_PACKAGES that are not installed. */
  readonly missing: readonly string[];
}

/** Builds the registry: core's reference backend, every installed plugin package, and `--plugin` modules. */
export async function loadPlugins(extraModules: readonly string[] = []): Promise<LoadedPlugins> {
  const plugins: PluginInput[] = [referenceBackend];
  const missing: string[] = [];
  for (const pkg of PLUGIN_PACKAGES) {
    const mod = await importIfInstalled(pkg.name);
    if (mod) plugins.push(mod[pkg.exportName] as PluginInput);
    else missing.push(pkg.name);
  }
  for (const spec of extraModules) plugins.push(await importPluginModule(spec));
  return { registry: createRegistry({ plugins }), missing };
}

async function importIfInstalled(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(/* @vite-ignore */ name)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to load url/.test(String(error))) return undefined;
    throw error;
  }
}

/** A `--plugin` module: every export that is a plugin (or an array of plugins) is registered. */
async function importPluginModule(spec: string): Promise<PluginInput> {
  const url = /^[./]|^[A-Za-z]:[\\/]/.test(spec) ? pathToFileURL(spec).href : spec;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(/* @vite-ignore */ url)) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`--plugin ${spec}: cannot import it: ${(error as Error).message}`);
  }
  const found = Object.values(mod).filter(
    (value) => isPlugin(value) || (Array.isArray(value) && value.length > 0 && value.every(isPlugin)),
  );
  if (found.length === 0) {
    throw new UsageError(
      `--plugin ${spec}: the module exports no plugin (make one with definePattern, defineEstimator, defineBackend or defineKvPolicy)`,
    );
  }
  return found as PluginInput;
}

function isPlugin(value: unknown): value is AnyPlugin {
  const p = value as Partial<AnyPlugin> | null;
  return (
    typeof p === 'object' && p !== null && typeof p.name === 'string' && typeof p.kind === 'string' && typeof p.parseParams === 'function'
  );
}
