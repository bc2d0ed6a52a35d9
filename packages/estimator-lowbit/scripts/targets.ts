// The targets for the low-bit estimators on tinybooks-2k traces (64×64 blocks, 2,048 tokens): writes
// bench-results/lowbit-targets.json.
//  1. SALE: per-head thresholds calibrated (output-error rule, θ = 0.4) on windows of the two training texts only;
//     on two held-out texts, the recall of SALE's int4 selection against the same rule on float32 scores.
//  2. PARO: per-head orders chosen on the training windows; on the held-out texts, the block recall an oracle
//     reaches at 10 % density in the original order and in the chosen order.
// Run: pnpm --filter @sparseland/estimator-lowbit targets (about 5 minutes).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createCpuBackend } from '@sparseland/backend-cpu';
import { attentionRecall, countKeptPairs, type HeadTensor, type SparseMask } from '@sparseland/core';
import { buildBlockMask, createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { collectItems, realTraceWorkload } from '@sparseland/eval';
import { textFile } from '@sparseland/fixtures';
import { oracleBlockRecall } from '../src/calibration/choose-permutations.js';
import { exactRegion, sale } from '../src/estimators/sale.js';
import { calibrateSale, choosePermutations } from '../src/index.js';
import { stridePermutation } from '../src/permutation.js';

type Item = { layer: number; q: HeadTensor; k: HeadTensor; v: HeadTensor };
const backend = await createCpuBackend();
async function traces(name: string, offset: number): Promise<Item[]> {
  const content = readFileSync(textFile(name), 'utf8');
  return (await collectItems(
    await realTraceWorkload({ model: 'tinybooks-2k', text: { name, content }, offset, positions: 2048, backend }),
  )) as Item[];
}
const blocks = { blockQ: 64, blockK: 64 };
const training = [...(await traces('pride-and-prejudice', 400_000)), ...(await traces('tinyshakespeare', 500_000))];
const thresholds = await calibrateSale(training, { ...blocks, backend });
console.error('calibrated τ per layer:', JSON.stringify(Object.fromEntries(thresholds)));
const choices = await choosePermutations(training, { ...blocks, density: 0.1, backend });
console.error('chosen strides:', choices.map((c) => `${c.layer}/${c.head}:${c.stride}`).join(' '));

/** The SALE rule on float32 scores: exact-region lse, then any element above lse + log τ keeps its block. */
async function floatSelection(item: Item, taus: readonly number[]): Promise<SparseMask> {
  const shape = resolveAttentionShape(item);
  const input = { ...item, shape, causal: true };
  const exact = exactRegion(input, blocks, { localWindow: 128, sinkBlocks: 1 });
  const { lse } = await backend.attend(item, { mask: { blocks: exact }, causal: true });
  const scores = await backend.pooledScores(item, { blockQ: 1, blockK: 1, scale: 1 / Math.sqrt(shape.dim), causal: true });
  const n = shape.qLength;
  const nb = Math.ceil(n / 64);
  const keep = new Uint8Array(shape.heads * nb * nb);
  for (let h = 0; h < shape.heads; h++) {
    const tau = taus[h] as number;
    for (let i = 0; i < n; i++) {
      const cut = tau <= 1e-5 ? -Infinity : (lse[h * n + i] as number) + Math.log(tau);
      for (let j = 0; j <= i; j++)
        if ((scores.data[(h * n + i) * n + j] as number) > cut) keep[(h * nb + Math.floor(i / 64)) * nb + Math.floor(j / 64)] = 1;
    }
  }
  return {
    blocks: buildBlockMask(shape, blocks, { trusted: true }, (h, qb, full) => {
      const region = new Set(exact.fullBlocks(0, qb));
      for (let kb = 0; kb <= qb; kb++) if (region.has(kb) || keep[(h * nb + qb) * nb + kb]) full.push(kb);
    }),
  };
}

const saleRows: {
  text: string;
  offset: number;
  setting: string;
  int4: { recall: number; density: number };
  float32: { recall: number; density: number };
  recallGap: number;
}[] = [];
const paroRows: { text: string; offset: number; density: number; originalOrderRecall: number; chosenOrderRecall: number }[] = [];
// The calibrated thresholds, and one sparser flat τ: the comparison should hold where SALE actually drops blocks.
const settings: { name: string; taus: (layer: number, heads: number) => number[] }[] = [
  { name: 'calibrated (θ = 0.4)', taus: (layer) => thresholds.get(layer) as number[] },
  { name: 'flat τ = 0.05', taus: (_layer, heads) => Array.from({ length: heads }, () => 0.05) },
];
for (const name of ['devils-dictionary', 'sqlite3-header']) {
  for (const offset of [30_000, 200_000]) {
    const items = await traces(name, offset);
    for (const setting of settings) {
      let intRecall = 0;
      let floatRecall = 0;
      let intKept = 0;
      let floatKept = 0;
      let total = 0;
      for (const item of items) {
        const shape = resolveAttentionShape(item);
        const taus = setting.taus(item.layer, shape.heads);
        const estimate = sale.build(sale.parseParams({ thresholds: taus }));
        const intMask = (await estimate(
          { ...item, shape, causal: true },
          { backend, cost: createCostMeter(), seed: 0, layer: item.layer, ...blocks },
        )) as SparseMask;
        const floatMask = await floatSelection(item, taus);
        intRecall += attentionRecall(item, intMask).mean / items.length;
        floatRecall += attentionRecall(item, floatMask).mean / items.length;
        const a = countKeptPairs(intMask, shape);
        const b = countKeptPairs(floatMask, shape);
        intKept += a.kept;
        floatKept += b.kept;
        total += a.total;
      }
      saleRows.push({
        text: name,
        offset,
        setting: setting.name,
        int4: { recall: intRecall, density: intKept / total },
        float32: { recall: floatRecall, density: floatKept / total },
        recallGap: floatRecall - intRecall,
      });
      console.error(
        `sale ${setting.name} ${name}@${offset}: int4 ${intRecall.toFixed(4)} @ ${(intKept / total).toFixed(4)}, float32 ${floatRecall.toFixed(4)} @ ${(floatKept / total).toFixed(4)}`,
      );
    }

    let plain = 0;
    let permuted = 0;
    let count = 0;
    for (const item of items) {
      const n = item.q.length;
      const probs = (await backend.lastQueriesAttention(item, { count: n })).data;
      for (let h = 0; h < item.q.heads; h++) {
        const stride = choices.find((c) => c.layer === item.layer && c.head === h)?.stride ?? 1;
        plain += oracleBlockRecall(probs, h, n, stridePermutation(n, 1), 64, 64, 0.1);
        permuted += oracleBlockRecall(probs, h, n, stridePermutation(n, stride), 64, 64, 0.1);
        count++;
      }
    }
    paroRows.push({ text: name, offset, density: 0.1, originalOrderRecall: plain / count, chosenOrderRecall: permuted / count });
    console.error(
      `paro ${name}@${offset}: block oracle at 10 %: original ${(plain / count).toFixed(4)}, chosen orders ${(permuted / count).toFixed(4)}`,
    );
  }
}
await backend.dispose();
const meanGap = saleRows.reduce((s, r) => s + r.recallGap, 0) / saleRows.length;
const worstGap = Math.max(...saleRows.map((r) => Math.abs(r.recallGap)));
const report = {
  suite: 'lowbit-targets',
  blocks: '64x64',
  calibration: { texts: ['pride-and-prejudice@400000', 'tinyshakespeare@500000'], theta: 0.4, thresholds: Object.fromEntries(thresholds) },
  sale: {
    windows: saleRows,
    meanRecallGap: meanGap,
    worstRecallGap: worstGap,
    target: 'int4 within 0.01 recall of the float32 selection (every window and setting)',
    met: worstGap <= 0.01,
  },
  paro: { chosen: choices, windows: paroRows },
};
mkdirSync('bench-results', { recursive: true });
writeFileSync('bench-results/lowbit-targets.json', `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify({ sale: report.sale.windows, meanRecallGap: meanGap, worstRecallGap: worstGap, paro: paroRows }, null, 2));
