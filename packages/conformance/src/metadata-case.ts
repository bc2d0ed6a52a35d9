import { type AnyPlugin, isSparselandError, type PluginKind, paramsJsonSchema } from '@sparseland/core';
import type { PluginCase } from './case.js';

/** The name of the metadata case of every suite (filters match it like any other case). */
export const METADATA_CASE_NAME =
  'metadata: a kebab-case name, a summary, the paper, a strict JSON-describable params schema with defaults';

/**
 * What every plugin must say about itself, whatever its kind: its kind, a kebab-case name (it appears in every
 * error message and recipe), a one-sentence summary, the paper it implements (a title and a URL; optional for
 * backends, which implement engineering rather than a method), a params schema that JSON Schema can describe (the
 * CLI and the playground render it), defaults for every parameter, and a refusal of unknown parameters (so a typo
 * in a recipe is an error, not a silent default). A backend's `priority` is a finite number and `isSupported()`
 * answers a boolean without throwing.
 */
export function metadataCase(plugin: AnyPlugin, kind: PluginKind): PluginCase {
  return {
    name: METADATA_CASE_NAME,
    async run() {
      const fail = (msg: string): never => {
        throw new Error(`${kind} "${String(plugin.name)}": ${msg}`);
      };
      if (plugin.kind !== kind) fail(`kind is "${plugin.kind}", expected "${kind}"`);
      if (!/^[a-z0-9][a-z0-9-]*$/.test(plugin.name)) fail('the name is not kebab-case');
      if (typeof plugin.summary !== 'string' || plugin.summary.length <= 10) fail('the summary must be a sentence');
      if (plugin.paper !== undefined || kind !== 'backend') {
        if (!plugin.paper?.title || !/^https?:\/\//.test(plugin.paper.url ?? '')) fail('the paper must have a title and an http(s) URL');
      }
      const schema = paramsJsonSchema(plugin.params);
      if (JSON.stringify(JSON.parse(JSON.stringify(schema))) !== JSON.stringify(schema)) fail('the params schema is not plain JSON');
      try {
        plugin.parseParams({});
      } catch (error) {
        fail(`parseParams({}) must give every parameter a default, got ${error instanceof Error ? error.message : String(error)}`);
      }
      let accepted = true;
      try {
        plugin.parseParams({ notAParameterOfThisPlugin: 1 });
      } catch (error) {
        if (!isSparselandError(error, 'E_PARAMS')) fail(`an unknown parameter must throw E_PARAMS, got ${String(error)}`);
        accepted = false;
      }
      if (accepted) fail('an unknown parameter was accepted: make the params schema strict (z.object({...}).strict())');
      if (plugin.kind === 'backend') {
        if (!Number.isFinite(plugin.priority)) fail(`priority ${plugin.priority} is not a finite number`);
        let supported: unknown;
        try {
          supported = await plugin.isSupported();
        } catch (error) {
          fail(`isSupported() must answer false rather than throw, got ${String(error)}`);
        }
        if (typeof supported !== 'boolean') fail(`isSupported() resolved to ${String(supported)}, expected a boolean`);
      }
    },
  };
}
