import { defineKvPolicy, type PackedBits } from '@sparseland/core';
import type { KvPolicy } from '@sparseland/core/kit';
import { intParam, type KvCacheLayer } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';

/**
 * KIVI: tuning-free asymmetric low-bit KV cache. Keys are quantised per channel over groups of `group` tokens (keys
 * have outlier channels), values per token over groups of `group` channels; the newest tokens stay in full
 * precision (the residual window) until a whole key group can be quantised, so at least `residual` and fewer than
 * `residual + group` tokens are in full precision. Blocks are really packed (2 or 4 bits per value, float32 scales
 * and mins) and decode reads them directly (`Backend.decodePacked`). Defaults from jy-yuan/KIVI: 2 bits, G = 32,
 * R = 128 (the LongBench settings; the examples use R = 32).
 */
export const kivi = defineKvPolicy({
  name: 'kivi',
  summary: 'Int2 / int4 KV cache: keys per channel, values per token, a full-precision recent window; really packed.',
  paper: PAPERS.kivi,
  params: z
    .object({
      bits: z
        .union([z.literal(2), z.literal(4)])
        .default(2)
        .describe('bits per key and value (KIVI-2; KIVI-4 for GQA models)'),
      group: intParam(1, 32, 'tokens per key group and channels per value group (G = 32)'),
      residual: intParam(0, 128, 'newest tokens kept in full precision (R = 128)'),
    })
    .strict(),
  build: ({ bits, group, residual }) => {
    const flush = (cache: KvCacheLayer): void => {
      for (let g = 0; g < cache.kvHeads; g++) {
        const packed = cache.packedLength(g);
        const full = cache.length(g) - packed;
        const count = Math.floor(Math.max(0, full - residual) / group) * group;
        if (count > 0)
          cache.pack(
            g,
            Int32Array.from({ length: count }, (_, i) => packed + i),
            { bits: bits as PackedBits, keyGroup: group, valueGroup: group },
          );
      }
    };
    return Object.freeze<KvPolicy>({
      name: 'kivi',
      afterPrefill: (cache: KvCacheLayer) => flush(cache),
      afterAppend: (cache: KvCacheLayer) => flush(cache),
      budget: () => ({}),
    });
  },
});
