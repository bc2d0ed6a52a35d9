import type { PaperRef } from '@sparseland/core';

/** Every paper the gate estimators cite, in one place (title, year, link). */
export const PAPERS = {
  seerAttention: {
    title: 'SeerAttention: Learning Intrinsic Sparse Attention in Your LLMs',
    year: 2024,
    url: 'https://arxiv.org/abs/2410.13276',
    authors: 'Gao et al.',
  },
  sparsifiner: {
    title: 'Sparsifiner: Learning Sparse Instance-Dependent Attention for Efficient Vision Transformers',
    year: 2023,
    url: 'https://arxiv.org/abs/2303.13755',
    authors: 'Wei et al.',
  },
  dma: {
    title: 'Trainable Dynamic Mask Sparse Attention',
    year: 2025,
    url: 'https://arxiv.org/abs/2508.02124',
    authors: 'Shi et al.',
  },
} as const satisfies Record<string, PaperRef>;
