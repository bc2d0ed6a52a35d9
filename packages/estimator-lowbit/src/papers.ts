import type { PaperRef } from '@sparseland/core';

/** Every paper the low-bit estimators cite, in one place (title, year, link). */
export const PAPERS = {
  sale: {
    title: 'SALE: Low-bit Estimation for Efficient Sparse Attention in Long-context LLM Prefilling',
    year: 2025,
    url: 'https://arxiv.org/abs/2505.24179',
    authors: 'Zhang et al.',
  },
  paro: {
    title: 'PAROAttention: Pattern-Aware ReOrdering for Efficient Sparse and Quantized Attention in Visual Generation Models',
    year: 2025,
    url: 'https://arxiv.org/abs/2506.16054',
    authors: 'Zhao et al.',
  },
} as const satisfies Record<string, PaperRef>;
