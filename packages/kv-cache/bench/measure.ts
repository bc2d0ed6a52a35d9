// Quality of every KV policy on the embedded models (deterministic numbers: they do not depend on the machine's load).
// For each model, three passages (eval's DEFAULT_KV_TEXTS), prompts of the trained context (tinybooks-2k: 2,048
// tokens; stories260K: 512), budgets of 10 %, 25 % and 50 % of the prompt for every policy with a budget, plus
// KIVI int4 / int2 (32-token residual window), ZipCache tiers and DuoAttention with heads from classifyHeads:
// continuation NLL change (64 teacher-forced tokens), greedy agreement (of 128), decode attention recall, bytes held
// (policy state included) and decode ms per token (indicative). Writes bench-results/kv-cache-quality-<model>.json,
// .txt and three SVG plots (recall, ΔNLL, greedy agreement vs memory), and prints the targets.
// `--model tinybooks-2k|stories260K` runs one model; `--only a,b` only the methods whose label contains one of them
// (written to kv-cache-quality-<model>-only.json); BENCH_SIZE=smoke runs one passage, three policies, short runs.
// The tinybooks-2k sweep takes about an hour on a busy machine: run it under `flock /tmp/sparseland-bench.lock`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCpuBackend } from '@sparseland/backend-cpu';
import { benchSize } from '@sparseland/bench-harness';
import { createRegistry, type HeadTensor } from '@sparseland/core';
import {
  compareKvPolicies,
  DEFAULT_KV_TEXTS,
  type FixtureModelName,
  formatKvReport,
  type KvCompareReport,
  kvTradeoffSvg,
  loadFixtureModel,
  type MethodSpec,
  passageTokens,
  readFixtureText,
} from '@sparseland/eval';
import { classifyHeads, kvPolicies } from '../src/index.js';

const smoke = benchSize() === 'smoke';
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const oneModel = arg('--model');
const models = (oneModel ? [oneModel] : ['tinybooks-2k', 'stories260K']) as FixtureModelName[];
const only = arg('--only')?.split(',');
const budgets = smoke ? [0.25] : [0.1, 0.25, 0.5];
const registry = createRegistry({ plugins: kvPolicies });
const backend = await createCpuBackend();
const dir = join(process.cwd(), 'bench-results');
mkdirSync(dir, { recursive: true });

const kv = (label: string, method: string, params: Record<string, unknown>): MethodSpec => ({
  label,
  group: method,
  recipe: { default: { method: 'dense' }, kv: { method, params } },
});
const pct = (b: number) => `${Math.round(b * 100)}%`;

/** DuoAttention's split for a model: classifyHeads on the last 64 queries of two passages, half the heads streaming. */
async function duoHeads(model: FixtureModelName, sink: number, recent: number): Promise<number[][]> {
  const loaded = await loadFixtureModel(model);
  const { layers } = loaded.model.config;
  const traces = [];
  for (const passage of DEFAULT_KV_TEXTS[model].slice(0, 2)) {
    const text = typeof passage.text === 'string' ? await readFixtureText(passage.text) : passage.text.content;
    const tokens = passageTokens(loaded, text, passage.offset, loaded.model.config.seqLen);
    const captured: { q: HeadTensor; k: HeadTensor }[] = new Array(layers);
    const session = loaded.model.createSession({ backend, onLayer: (c) => (captured[c.layer] = { q: c.q, k: c.k }) });
    await session.prefill(tokens);
    await session.dispose();
    traces.push({ layers: captured, queryRows: Array.from({ length: 64 }, (_, i) => tokens.length - 64 + i) });
  }
  return classifyHeads(traces, { sink, recent, streamingFraction: 0.5 }).streamingHeads.map((h) => [...h]);
}

function targets(report: KvCompareReport): string[] {
  const lines: string[] = [];
  if (report.model !== 'tinybooks-2k') return lines;
  const at25 = report.summary.filter((s) => s.method.endsWith(' 25%'));
  const best = [...at25].sort((a, b) => b.greedyAgreementMin - a.greedyAgreementMin || b.recall - a.recall)[0];
  const streaming = at25.find((s) => s.method.startsWith('streaming-llm'));
  const evicting = at25
    .filter((s) => s.bytesRatio < 0.5)
    .sort((a, b) => b.greedyAgreementMin - a.greedyAgreementMin || b.recall - a.recall)[0];
  const show = (s: (typeof at25)[number] | undefined) =>
    s
      ? `${s.method}: recall ${s.recall.toFixed(3)} (worst passage ${s.recallWorstText.toFixed(3)}), greedy agreement ${s.greedyAgreement.toFixed(1)} mean / ${s.greedyAgreementMin} min of ${report.greedyTokens}, ΔNLL ${s.nllDelta.toFixed(4)}, bytes ${(100 * s.bytesRatio).toFixed(1)}% of full`
      : 'not run';
  lines.push(`target (recall >= 0.90 and greedy >= 64 at 25%): best ${show(best)}`);
  lines.push(`  beside it: ${show(streaming)}`);
  lines.push(`  best policy that holds < 50% of the bytes: ${show(evicting)}`);
  for (const k of report.summary.filter((s) => s.method.startsWith('kivi'))) {
    lines.push(
      `target (KIVI int4, 32-token window: ΔNLL <= 0.02, bytes <= 30%): ${k.method}: ΔNLL ${k.nllDelta.toFixed(4)} nats/token, bytes ${(100 * k.bytesRatio).toFixed(1)}% of fp32`,
    );
  }
  return lines;
}

for (const model of models) {
  const budgeted = smoke
    ? ['streaming-llm', 'quest']
    : ['streaming-llm', 'h2o', 'tova', 'snapkv', 'pyramidkv', 'adakv', 'expected-attention', 'quest', 'tidal-decode', 'double-sparsity'];
  const methods: MethodSpec[] = [];
  for (const budget of budgets) {
    for (const name of budgeted) methods.push(kv(`${name} ${pct(budget)}`, name, { budget }));
    // Quest with every layer sparse (its paper keeps the first two dense, the default), and Expected Attention with
    // a recent window (its scores carry no recency; the paper keeps only sinks).
    if (!smoke) methods.push(kv(`quest-all-layers ${pct(budget)}`, 'quest', { budget, denseLayers: 0 }));
    if (!smoke) methods.push(kv(`expected-attention+recent64 ${pct(budget)}`, 'expected-attention', { budget, recent: 64 }));
  }
  methods.push(kv('kivi int4 r32', 'kivi', { bits: 4, residual: 32 }));
  if (!smoke) {
    methods.push(kv('kivi int2 r32', 'kivi', { bits: 2, residual: 32 }));
    methods.push(kv('zipcache 4/2-bit', 'zipcache', {}));
    const duo = { sink: 128, recent: 256 };
    const streamingHeads = await duoHeads(model, duo.sink, duo.recent);
    methods.push(kv('duo-attention (half streaming)', 'duo-attention', { streamingHeads, ...duo }));
  }
  const chosen = only ? methods.filter((m) => only.some((o) => m.label.includes(o))) : methods;
  if (chosen.length === 0) throw new Error(`--only ${only?.join(',')} matches no method`);
  const t0 = performance.now();
  const report = await compareKvPolicies({
    model,
    methods: chosen,
    registry,
    backend,
    ...(smoke
      ? { texts: DEFAULT_KV_TEXTS[model].slice(0, 1), continuation: 16, greedyTokens: 32 }
      : { continuation: 64, greedyTokens: 128 }),
    onProgress: (done, total, label) =>
      console.error(`[${model}] ${done}/${total} ${label} (${((performance.now() - t0) / 60000).toFixed(1)} min)`),
  });
  const base = join(dir, `kv-cache-quality-${model}${only ? '-only' : ''}`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ ...report, size: benchSize(), node: process.version, threads: backend.threads }, null, 2)}\n`,
  );
  const text = formatKvReport(report);
  const lines = targets(report);
  writeFileSync(`${base}.txt`, `${text}\n\n${lines.join('\n')}\n`);
  for (const metric of ['recall', 'nllDelta', 'greedyAgreement'] as const)
    writeFileSync(`${base}-${metric}.svg`, await kvTradeoffSvg(report, metric));
  console.log(text);
  for (const line of lines) console.log(line);
  console.log(`wrote ${base}.json`);
}
await backend.dispose();
