// `pnpm bench:plan`: what planning an attention call costs (the mask turned into tasks, segments, bitmaps and
// gathered columns on the calling thread, before any kernel runs), alone and as part of the end-to-end call, on the
// workloads of `pnpm bench`. Writes bench-results/cpu-planning.json. BENCH_SIZE=smoke runs tiny sizes.
// Run under `flock /tmp/sparseland-bench.lock` on a shared machine.

import { type BenchRecord, benchSize, measure, writeSuite } from '@sparseland/bench-harness';
import { type AttentionShape, and, ColumnMask, causal, createBlockMask, type SparseMask } from '@sparseland/core';
import { createCpuBackend } from '../src/index.js';
import { planAttend } from '../src/plan/attend-plan.js';
import { BLOCK, DIM, inputs, randomCausalBlocks, shapeOf, verticalSlash } from './workloads.js';

const FULL = benchSize() === 'full';
const QH = 8;
const KV = 2;
const n = FULL ? { dense: 8192, vs: 32768, sparse: 16384, window: 8192 } : { dense: 512, vs: 1024, sparse: 1024, window: 512 };

function attentionShape(len: number): AttentionShape {
  return { ...shapeOf(len, QH), kvHeads: KV, dim: DIM };
}

/** Blocks of a per-head sliding window with sinks (partial blocks at the band's edges) plus per-head columns. */
function windowAndColumns(len: number): SparseMask {
  const shape = shapeOf(len, QH);
  const window = Math.round(len / 16);
  const blocks = createBlockMask(
    and(causal, (h, q, k) => q - k < window + 8 * h || k < 4),
    shape,
    { blockQ: BLOCK, blockK: BLOCK },
  );
  const columns = ColumnMask.build(shape, BLOCK, {}, (h, qb, out) => {
    for (let k = (h * 7) % 97; k < Math.min(len, (qb + 1) * BLOCK); k += 97) out.push(k);
  });
  return { blocks, columns };
}

const cases: { name: string; len: number; mask: SparseMask | undefined; endToEnd: boolean }[] = [
  { name: `dense causal N=${n.dense}`, len: n.dense, mask: undefined, endToEnd: true },
  {
    name: `vertical-slash N=${n.vs}`,
    len: n.vs,
    mask: verticalSlash(n.vs, Math.round(n.vs / 40), [1, 2, 3, 4, 16, 64], 17),
    endToEnd: true,
  },
  {
    name: `block-sparse 10% per head N=${n.sparse}`,
    len: n.sparse,
    mask: { blocks: randomCausalBlocks(n.sparse, QH, 0.1, 11) },
    endToEnd: false,
  },
  {
    name: `window + sinks (partial blocks) + per-head columns N=${n.window}`,
    len: n.window,
    mask: windowAndColumns(n.window),
    endToEnd: false,
  },
];

const records: BenchRecord[] = [];
const backend = await createCpuBackend();
for (const c of cases) {
  const shape = attentionShape(c.len);
  const base = { n: c.len, qHeads: QH, kvHeads: KV, dim: DIM, backend: 'cpu', impl: backend.impl, threads: backend.threads };
  const plan = await measure(() => planAttend(shape, c.mask, true), { runs: 15, warmups: 3 });
  records.push({ ...base, case: `plan: ${c.name}`, ...plan });
  console.error(`  plan: ${c.name}: ${plan.medianMs.toFixed(2)} ms`);
  if (!c.endToEnd) continue;
  const x = inputs(c.len, QH, KV, 13);
  const call = await measure(() => backend.attend(x, { mask: c.mask }), { runs: 5, warmups: 1 });
  records.push({
    ...base,
    case: `attend (plan included): ${c.name}`,
    ...call,
    note: `planning is ${((plan.medianMs / call.medianMs) * 100).toFixed(1)}% of the call`,
  });
  console.error(`  attend: ${c.name}: ${call.medianMs.toFixed(1)} ms`);
}
await backend.dispose();
writeSuite('cpu-planning', records);
