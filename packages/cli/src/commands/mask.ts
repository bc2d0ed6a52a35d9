import { type Backend, compileRecipe, countKeptPairs, LIMITS } from '@sparseland/core';
import { createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, findMethod, type LoadedModel, realTraceWorkload, syntheticWorkload, type WorkloadItem } from '@sparseland/eval';
import { renderMask } from '@sparseland/patterns';
import { chooseBackend } from '../backend.js';
import { CLI_LIMITS, parseInteger, parseSeed, quote } from '../cli-values.js';
import { UsageError } from '../exit-codes.js';
import { parseParamsOption } from '../method-spec.js';
import { checkOutputFile, writeFilesAtomically } from '../output-files.js';
import { loadOwnFiles, type OwnFiles } from '../own-files.js';
import { loadPlugins } from '../plugins.js';
import { parseLength } from '../workload-spec.js';

export interface MaskOptions {
  readonly params?: string;
  readonly n: string;
  readonly heads?: string;
  readonly head: string;
  readonly svg?: string;
  readonly png?: string;
  readonly level: string;
  readonly seed: string;
  readonly backend: string;
  readonly json?: boolean;
  readonly plugin?: string[];
  readonly model?: string;
  readonly tokenizer?: string;
  readonly text?: string;
  readonly layer?: string;
}

/**
 * `sparseland mask <method>`: builds the method's mask for an n × n causal call, prints its density and an ASCII
 * picture, and writes SVG / PNG pictures. Estimators look at a synthetic input with planted structure, or with
 * `--model` at the Q and K of one layer of that model over n tokens of `--text` (default: the embedded Pride and
 * Prejudice).
 */
export async function maskCommand(method: string, options: MaskOptions, out: (text: string) => void): Promise<void> {
  const own = await loadOwnFiles(options);
  if (!own.model && own.text) {
    throw new UsageError('--text is the passage a model reads: add --model (without it, estimators look at a synthetic input)');
  }
  if (!own.model && options.layer !== undefined) throw new UsageError('--layer picks a layer of --model; add --model <checkpoint>');
  const n = parseLength(options.n, '--n');
  const syntheticHeads = parseInteger(options.heads ?? '1', '--heads', 1, CLI_LIMITS.heads);
  const head = parseInteger(options.head, '--head', 0, CLI_LIMITS.heads - 1);
  const seed = parseSeed(options.seed);
  const layer = parseInteger(options.layer ?? '0', '--layer', 0, LIMITS.layers - 1);
  if (!['auto', 'element', 'block'].includes(options.level))
    throw new UsageError(`--level must be auto, element or block, got ${quote(options.level)}`);
  if (options.svg !== undefined) checkOutputFile(options.svg, '--svg');
  if (options.png !== undefined) checkOutputFile(options.png, '--png');
  const { registry } = await loadPlugins(options.plugin);
  findMethod(registry, method);
  const params = parseParamsOption(options.params, [method])[method] ?? {};
  const recipe = compileRecipe({ method, params }, registry);
  const backend: Backend = await chooseBackend(registry, options.backend);
  try {
    const item = own.model ? await modelItem(own.model, own.text, layer, n, backend) : await syntheticItem(syntheticHeads, seed, n);
    const input = { q: item.q, k: item.k, v: item.v };
    const shape = resolveAttentionShape(input, { checkFinite: false });
    const heads = shape.heads;
    if (head >= heads) throw new UsageError(`--head must be below the number of query heads (${heads}), got ${head}`);
    const built = await recipe.build({
      input: { q: input.q, k: input.k, v: input.v, shape, causal: true },
      backend,
      cost: createCostMeter(),
      seed: 0,
      layer: item.layer,
    });
    const mask = built.mask === 'dense' ? undefined : built.mask;
    const { kept, total } = countKeptPairs(mask, shape, { causal: true });
    const picture = mask ?? ((_h: number, q: number, k: number) => k <= q);
    const render = { shape, head, causal: true, level: options.level as 'auto' | 'element' | 'block' };
    const pictures: { path: string; data: string | Uint8Array }[] = [];
    if (options.svg) pictures.push({ path: options.svg, data: renderMask(picture, { ...render, format: 'svg' }) });
    if (options.png) pictures.push({ path: options.png, data: renderMask(picture, { ...render, format: 'png' }) });
    writeFilesAtomically(pictures);
    const files = pictures.map((p) => p.path);
    const parsed = findMethod(registry, method).parseParams(params);
    const density = total === 0 ? 0 : kept / total;
    // What the estimator looked at: the synthetic input, or the layer of the user's model.
    const source = own.model ? { model: own.model.name, text: own.text?.name ?? 'pride-and-prejudice', layer: item.layer } : undefined;
    if (options.json) {
      const report = { method, params: parsed, n, heads, head, keptPairs: kept, causalPairs: total, density, files };
      out(JSON.stringify(source ? { ...report, input: source } : report, null, 2));
      return;
    }
    const on = source ? `${source.model} layer ${source.layer} over ${n} tokens of ${source.text}` : `n = ${n}`;
    out(
      `${method} ${JSON.stringify(parsed)} on ${on}: density ${density.toFixed(4)} (${kept} of ${total} causal pairs, ${heads} head${heads > 1 ? 's' : ''})`,
    );
    if (files.length === 0) out(renderMask(picture, { ...render, format: 'ascii', maxCells: 64 }));
    for (const f of files) out(`wrote ${f}`);
  } finally {
    await backend.dispose();
  }
}

/** The synthetic input with planted structure (`--heads` query heads, one kv head). */
async function syntheticItem(heads: number, seed: number, n: number): Promise<WorkloadItem> {
  const [item] = await collectItems(
    syntheticWorkload({
      n,
      heads,
      kvHeads: 1,
      dim: 32,
      seed,
      structure: { needles: 0, band: Math.max(1, Math.min(64, n >> 2)) },
    }),
  );
  return item as WorkloadItem;
}

/** Layer `--layer` of the user's model traced over n tokens of its text. */
async function modelItem(model: LoadedModel, text: OwnFiles['text'], layer: number, n: number, backend: Backend) {
  const layers = model.model.config.layers;
  if (layer >= layers) throw new UsageError(`--layer must be below the model's ${layers} layers, got ${layer}`);
  const workload = await realTraceWorkload({ model, text, positions: n, layers: [layer], backend });
  const [item] = await collectItems(workload);
  return item as WorkloadItem;
}
