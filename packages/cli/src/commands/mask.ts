import { writeFileSync } from 'node:fs';
import { type Backend, compileRecipe, countKeptPairs } from '@sparseland/core';
import { createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, findMethod, syntheticWorkload } from '@sparseland/eval';
import { renderMask } from '@sparseland/patterns';
import { chooseBackend } from '../backend.js';
import { UsageError } from '../exit-codes.js';
import { parseParamsOption } from '../method-spec.js';
import { loadPlugins } from '../plugins.js';
import { parseLength } from '../workload-spec.js';

export interface MaskOptions {
  readonly params?: string;
  readonly n: string;
  readonly heads: string;
  readonly head: string;
  readonly svg?: string;
  readonly png?: string;
  readonly level: string;
  readonly seed: string;
  readonly backend: string;
  readonly json?: boolean;
  readonly plugin?: string[];
}

/**
 * `sparseland mask <method>`: builds the method's mask for an n × n causal call (estimators look at a synthetic
 * input with planted structure), prints its density and an ASCII picture, and writes SVG / PNG pictures.
 */
export async function maskCommand(method: string, options: MaskOptions, out: (text: string) => void): Promise<void> {
  const { registry } = await loadPlugins(options.plugin);
  findMethod(registry, method);
  const n = parseLength(options.n, '--n');
  const heads = integer(options.heads, '--heads', 1);
  const head = integer(options.head, '--head', 0);
  if (head >= heads) throw new UsageError(`--head must be below --heads (${heads}), got ${head}`);
  if (!['auto', 'element', 'block'].includes(options.level))
    throw new UsageError(`--level must be auto, element or block, got "${options.level}"`);
  const params = parseParamsOption(options.params, [method])[method] ?? {};
  const recipe = compileRecipe({ method, params }, registry);
  const [item] = await collectItems(
    syntheticWorkload({
      n,
      heads,
      kvHeads: 1,
      dim: 32,
      seed: integer(options.seed, '--seed', 0),
      structure: { needles: 0, band: Math.max(1, Math.min(64, n >> 2)) },
    }),
  );
  const input = { q: item!.q, k: item!.k, v: item!.v };
  const shape = resolveAttentionShape(input, { checkFinite: false });
  const backend: Backend = await chooseBackend(registry, options.backend);
  try {
    const built = await recipe.build({
      input: { q: input.q, k: input.k, v: input.v, shape, causal: true },
      backend,
      cost: createCostMeter(),
      seed: 0,
      layer: 0,
    });
    const mask = built.mask === 'dense' ? undefined : built.mask;
    const { kept, total } = countKeptPairs(mask, shape, { causal: true });
    const picture = mask ?? ((_h: number, q: number, k: number) => k <= q);
    const render = { shape, head, causal: true, level: options.level as 'auto' | 'element' | 'block' };
    const files: string[] = [];
    if (options.svg) {
      writeFileSync(options.svg, renderMask(picture, { ...render, format: 'svg' }));
      files.push(options.svg);
    }
    if (options.png) {
      writeFileSync(options.png, renderMask(picture, { ...render, format: 'png' }));
      files.push(options.png);
    }
    const parsed = findMethod(registry, method).parseParams(params);
    const density = total === 0 ? 0 : kept / total;
    if (options.json) {
      out(JSON.stringify({ method, params: parsed, n, heads, head, keptPairs: kept, causalPairs: total, density, files }, null, 2));
      return;
    }
    out(
      `${method} ${JSON.stringify(parsed)} on n = ${n}: density ${density.toFixed(4)} (${kept} of ${total} causal pairs, ${heads} head${heads > 1 ? 's' : ''})`,
    );
    if (files.length === 0) out(renderMask(picture, { ...render, format: 'ascii', maxCells: 64 }));
    for (const f of files) out(`wrote ${f}`);
  } finally {
    await backend.dispose();
  }
}

function integer(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${what} must be an integer >= ${min}, got "${text}"`);
  return n;
}
