import { defineKvPolicy, SparselandError } from '@sparseland/core';
import { intParam, type KvPolicy, routeKvPolicies } from '@sparseland/core/kit';
import { z } from 'zod';
import { PAPERS } from '../papers.js';
import { streamingLlm } from './streaming-llm.js';

/**
 * DuoAttention: each kv head is a retrieval head (full cache) or a streaming head (`sink` first tokens + `recent`
 * newest). Which heads stream comes from a detector (the paper trains a gate per head on synthetic passkey data;
 * `classifyHeads` measures the attention mass that needle queries put outside the sink + recent window) and is
 * given per layer. Defaults: sink 128, recent 256 (the Llama-3.1-8B pattern of mit-han-lab/duo-attention).
 * The same split can be written as a recipe (`duoRecipe`), with streaming-llm on the streaming heads.
 */
export const duoAttention = defineKvPolicy({
  name: 'duo-attention',
  summary: 'Retrieval heads keep the full cache, streaming heads keep sinks + a recent window (heads from a detector).',
  paper: PAPERS.duoAttention,
  params: z
    .object({
      streamingHeads: z
        .array(z.array(z.number().int().min(0).max(1023)).max(1024))
        .max(4096)
        .default([])
        .describe('per layer, the kv heads that stream (the rest keep everything); missing layers keep everything'),
      sink: intParam(0, 128, 'first tokens a streaming head keeps (sink_size 128)'),
      recent: intParam(1, 256, 'newest tokens a streaming head keeps (recent_size 256)'),
    })
    .strict(),
  build: ({ streamingHeads, sink, recent }) => {
    const streaming = streamingLlm.build({ budget: sink + recent, sink });
    return duoPolicy('duo-attention', streamingHeads, streaming);
  },
});

function duoPolicy(name: string, streamingHeads: readonly (readonly number[])[], streaming: KvPolicy): KvPolicy {
  return routeKvPolicies(name, (layer, kvHeads) => {
    const mine = new Set(streamingHeads[layer] ?? []);
    for (const g of mine) {
      if (g >= kvHeads) {
        throw new SparselandError(
          'E_PARAMS',
          `duo-attention: streamingHeads[${layer}] names kv head ${g}, but the model has ${kvHeads} kv heads`,
        );
      }
    }
    const all = Array.from({ length: kvHeads }, (_, g) => g);
    return [
      { policy: streaming, heads: all.filter((g) => mine.has(g)) },
      { policy: undefined, heads: all.filter((g) => !mine.has(g)) },
    ].filter((group) => group.heads.length > 0);
  });
}
