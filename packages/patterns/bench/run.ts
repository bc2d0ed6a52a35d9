// Suite `patterns-build`: how long each pattern's fast builder takes to make the BlockMask of a long call.
// Full size: N = 131072 queries and keys, 32 query heads, 128 × 128 blocks (FlexAttention's default tile).
// Smoke size (BENCH_SIZE=smoke, what CI runs): N = 4096, 4 heads. Runs against the built package. `density` is the
// block-level density of the BlockMask part (FlexAttention's count); narrow columns gathered in a ColumnMask are
// reported as `columns` (entries over all query blocks and stored heads).
import { type BenchRecord, benchSize, measure, writeSuite } from '@sparseland/bench-harness';
import type { MaskShape, PatternPlugin } from '@sparseland/core';
import { patterns } from '@sparseland/patterns';

const smoke = benchSize() === 'smoke';
const n = smoke ? 4096 : 131072;
const heads = smoke ? 4 : 32;
const block = 128;
const shape: MaskShape = { heads, qLength: n, kvLength: n, qOffset: 0 };

/** Extra parameter sets worth timing besides each pattern's defaults. */
const VARIANTS: Record<string, Record<string, unknown>[]> = {
  strided: [{ heads: 'alternating' }],
  fixed: [{ distinctHeads: true }],
  neighborhood: [
    { grid: [0, 512], kernelSize: 13 },
    { grid: [0, 32, 64], kernelSize: [3, 7, 7], causal: [true, false, false] },
  ],
  'sparse-vdit': [{ pattern: 'multi-diagonal' }, { pattern: 'vertical-stripe' }],
  grid: [{ horizontal: false }],
};

const records: BenchRecord[] = [];
for (const plugin of patterns as readonly PatternPlugin[]) {
  const probe = plugin.build(plugin.parseParams({}));
  if (!probe.mask) continue; // score modifiers keep every pair: nothing to build
  for (const params of [{}, ...(VARIANTS[plugin.name] ?? [])]) {
    const instance = plugin.build(plugin.parseParams(params));
    const build = () => instance.mask?.(shape, { blockQ: block, blockK: block });
    const built = build();
    const blocks = built?.blocks;
    const columns = built?.columns?.cols.length ?? 0;
    const timing = await measure(build, { runs: smoke ? 5 : 7, warmups: 1 });
    const label = Object.keys(params).length ? `${plugin.name} ${JSON.stringify(params)}` : plugin.name;
    records.push({
      case: label,
      n,
      qHeads: heads,
      density: blocks ? blocks.density({ causal: instance.causal }) : Number.NaN,
      ...timing,
      storedHeads: blocks?.heads,
      blocks: blocks?.blockCount,
      columns,
      note: `block ${block}x${block}, stored heads ${blocks?.heads}, ${blocks?.blockCount} blocks${columns ? `, ${columns} gathered columns` : ''}`,
    });
  }
}
writeSuite('patterns-build', records);
const slowest = records.reduce((a, b) => (b.medianMs > a.medianMs ? b : a));
console.log(`slowest: ${slowest.case} ${slowest.medianMs.toFixed(1)} ms median`);
