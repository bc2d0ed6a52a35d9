import type { PaperRef } from '@sparseland/core';

/** Every paper the estimators cite, in one place (title, year, link). */
export const PAPERS = {
  minference: {
    title: 'MInference 1.0: Accelerating Pre-filling for Long-Context LLMs via Dynamic Sparse Attention',
    year: 2024,
    url: 'https://arxiv.org/abs/2407.02490',
    authors: 'Jiang et al.',
  },
  flexprefill: {
    title: 'FlexPrefill: A Context-Aware Sparse Attention Mechanism for Efficient Long-Sequence Inference',
    year: 2025,
    url: 'https://arxiv.org/abs/2502.20766',
    authors: 'Lai et al.',
  },
  moba: {
    title: 'MoBA: Mixture of Block Attention for Long-Context LLMs',
    year: 2025,
    url: 'https://arxiv.org/abs/2502.13189',
    authors: 'Lu et al.',
  },
  vmoba: {
    title: 'VMoBA: Mixture-of-Block Attention for Video Diffusion Models',
    year: 2025,
    url: 'https://arxiv.org/abs/2506.23858',
    authors: 'Wu et al.',
  },
  biformer: {
    title: 'BiFormer: Vision Transformer with Bi-Level Routing Attention',
    year: 2023,
    url: 'https://arxiv.org/abs/2303.08810',
    authors: 'Zhu et al.',
  },
  hip: {
    title: 'A Training-free Sub-quadratic Cost Transformer Model Serving Framework With Hierarchically Pruned Attention',
    year: 2024,
    url: 'https://arxiv.org/abs/2406.09827',
    authors: 'Lee et al.',
  },
  hyperattention: {
    title: 'HyperAttention: Long-context Attention in Near-Linear Time',
    year: 2023,
    url: 'https://arxiv.org/abs/2310.05869',
    authors: 'Han et al.',
  },
  routing: {
    title: 'Efficient Content-Based Sparse Attention with Routing Transformers',
    year: 2021,
    url: 'https://arxiv.org/abs/2003.05997',
    authors: 'Roy et al.',
  },
  reformer: {
    title: 'Reformer: The Efficient Transformer',
    year: 2020,
    url: 'https://arxiv.org/abs/2001.04451',
    authors: 'Kitaev et al.',
  },
  anchor: {
    title: 'AnchorAttention: Difference-Aware Sparse Attention with Stripe Granularity',
    year: 2025,
    url: 'https://arxiv.org/abs/2505.23520',
    authors: 'Zhang et al.',
  },
  sea: {
    title: 'SEA: Sparse Linear Attention with Estimated Attention Mask',
    year: 2024,
    url: 'https://arxiv.org/abs/2310.01777',
    authors: 'Lee et al.',
  },
  spark: {
    title: 'Spark Transformer: Reactivating Sparsity in FFN and Attention',
    year: 2025,
    url: 'https://arxiv.org/abs/2506.06644',
    authors: 'You et al.',
  },
  doubleSparsity: {
    title: 'Post-Training Sparse Attention with Double Sparsity',
    year: 2024,
    url: 'https://arxiv.org/abs/2408.07092',
    authors: 'Yang et al.',
  },
  zipvl: {
    title: 'ZipVL: Efficient Large Vision-Language Models with Dynamic Token Sparsification',
    year: 2024,
    url: 'https://arxiv.org/abs/2410.08584',
    authors: 'He et al.',
  },
  rettention: {
    title: 'Re-ttention: Ultra Sparse Visual Generation via Attention Statistical Reshape',
    year: 2025,
    url: 'https://arxiv.org/abs/2505.22918',
    authors: 'Chen et al.',
  },
  moa: {
    title: 'MoA: Mixture of Sparse Attention for Automatic Large Language Model Compression',
    year: 2024,
    url: 'https://arxiv.org/abs/2406.14909',
    authors: 'Fu et al.',
  },
} as const satisfies Record<string, PaperRef>;
