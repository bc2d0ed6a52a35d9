// The README's snippet: `pnpm --filter @sparseland/backend-cpu exec tsx examples/quickstart.ts`.
import { createCpuBackend } from '@sparseland/backend-cpu';
import { attention, createBlockMask, randomHeadTensor, referenceAttention } from '@sparseland/core';

const backend = await createCpuBackend(); // impl 'auto': WebAssembly (relaxed SIMD when it runs here); threads: all cores
const n = 4096;
const q = randomHeadTensor({ heads: 8, length: n, dim: 64, seed: 1 });
const k = randomHeadTensor({ heads: 2, length: n, dim: 64, seed: 2 }); // GQA 8:2
const v = randomHeadTensor({ heads: 2, length: n, dim: 64, seed: 3 });

// A sliding window of 512 plus 64 sink tokens, as a BlockMask (full blocks inside, partial blocks on the edges).
const window = (_h: number, qPos: number, kPos: number) => qPos - kPos < 512 || kPos < 64;
const mask = createBlockMask(window, { heads: 8, qLength: n, kvLength: n, qOffset: 0 }, { broadcast: true });

const sparse = await attention({ q, k, v }, { backend, mask });
const dense = await attention({ q, k, v }, { backend });
console.log(`impl ${backend.impl} (${backend.simd}), ${backend.threads} threads`);
console.log(`sparse: density ${sparse.stats.density.toFixed(3)}, ${sparse.stats.attendMs.toFixed(0)} ms`);
console.log(`dense:  density ${dense.stats.density.toFixed(3)}, ${dense.stats.attendMs.toFixed(0)} ms`);

// Check one head against the float64 reference.
const head0 = {
  q: { ...q, heads: 1, data: q.data.subarray(0, n * 64) },
  k: { ...k, heads: 1, data: k.data.subarray(0, n * 64) },
  v: { ...v, heads: 1, data: v.data.subarray(0, n * 64) },
};
const exact = referenceAttention(head0, { mask: window });
let worst = 0;
for (let i = 0; i < n * 64; i++) worst = Math.max(worst, Math.abs((sparse.output.data[i] as number) - (exact.output.data[i] as number)));
console.log(`max |cpu - float64 reference| on head 0: ${worst.toExponential(1)}`);
await backend.dispose();
