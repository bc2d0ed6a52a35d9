import type { PaperRef } from '@sparseland/core';

/** Every paper the patterns cite, in one place (title, year, link). */
export const PAPERS = {
  transformer: { title: 'Attention Is All You Need', year: 2017, url: 'https://arxiv.org/abs/1706.03762', authors: 'Vaswani et al.' },
  flexAttention: {
    title: 'FlexAttention: A Programming Model for Generating Optimized Attention Kernels',
    year: 2024,
    url: 'https://arxiv.org/abs/2412.05496',
    authors: 'Dong et al.',
  },
  longformer: {
    title: 'Longformer: The Long-Document Transformer',
    year: 2020,
    url: 'https://arxiv.org/abs/2004.05150',
    authors: 'Beltagy et al.',
  },
  streamingLlm: {
    title: 'Efficient Streaming Language Models with Attention Sinks',
    year: 2023,
    url: 'https://arxiv.org/abs/2309.17453',
    authors: 'Xiao et al.',
  },
  minference: {
    title: 'MInference 1.0: Accelerating Pre-filling for Long-Context LLMs via Dynamic Sparse Attention',
    year: 2024,
    url: 'https://arxiv.org/abs/2407.02490',
    authors: 'Jiang et al.',
  },
  scbench: {
    title: 'SCBench: A KV Cache-Centric Analysis of Long-Context Methods',
    year: 2024,
    url: 'https://arxiv.org/abs/2412.10319',
    authors: 'Li et al.',
  },
  sparseTransformer: {
    title: 'Generating Long Sequences with Sparse Transformers',
    year: 2019,
    url: 'https://arxiv.org/abs/1904.10509',
    authors: 'Child et al.',
  },
  bigBird: {
    title: 'Big Bird: Transformers for Longer Sequences',
    year: 2020,
    url: 'https://arxiv.org/abs/2007.14062',
    authors: 'Zaheer et al.',
  },
  gna: {
    title: 'Generalized Neighborhood Attention: Multi-dimensional Sparse Attention at the Speed of Light',
    year: 2025,
    url: 'https://arxiv.org/abs/2504.16922',
    authors: 'Hassani et al.',
  },
  s2Attention: {
    title: 'S2-Attention: Hardware-Aware Context Sharding Among Attention Heads',
    year: 2024,
    url: 'https://arxiv.org/abs/2407.17678',
    authors: 'Lin et al.',
  },
  moa: {
    title: 'MoA: Mixture of Sparse Attention for Automatic Large Language Model Compression',
    year: 2024,
    url: 'https://arxiv.org/abs/2406.14909',
    authors: 'Fu et al.',
  },
  masformer: {
    title: 'Efficient Long-Range Transformers: You Need to Attend More, but Not Necessarily at Every Layer (MASFormer)',
    year: 2023,
    url: 'https://arxiv.org/abs/2310.12442',
    authors: 'Zhang et al.',
  },
  powerAttention: {
    title: 'PowerAttention: Exponentially Scaling of Receptive Fields for Effective Sparse Attention',
    year: 2025,
    url: 'https://arxiv.org/abs/2503.03588',
    authors: 'Chen et al.',
  },
  radial: {
    title: 'Radial Attention: O(n log n) Sparse Attention with Energy Decay for Long Video Generation',
    year: 2025,
    url: 'https://arxiv.org/abs/2506.19852',
    authors: 'Li et al.',
  },
  sparseVdit: {
    title: 'Sparse-vDiT: Unleashing the Power of Sparse Attention to Accelerate Video Diffusion Transformers',
    year: 2025,
    url: 'https://arxiv.org/abs/2506.03065',
    authors: 'Chen et al.',
  },
  mminference: {
    title: 'MMInference: Accelerating Pre-filling for Long-Context VLMs via Modality-Aware Permutation Sparse Attention',
    year: 2025,
    url: 'https://arxiv.org/abs/2504.16083',
    authors: 'Li et al.',
  },
  alibi: {
    title: 'Train Short, Test Long: Attention with Linear Biases Enables Input Length Extrapolation',
    year: 2021,
    url: 'https://arxiv.org/abs/2108.12409',
    authors: 'Press et al.',
  },
  t5: {
    title: 'Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer',
    year: 2019,
    url: 'https://arxiv.org/abs/1910.10683',
    authors: 'Raffel et al.',
  },
  selectiveAttention: {
    title: 'Selective Attention: Enhancing Transformer through Principled Context Control',
    year: 2024,
    url: 'https://arxiv.org/abs/2411.12892',
    authors: 'Zhang et al.',
  },
  combiner: {
    title: 'Combiner: Full Attention Transformer with Sparse Computation Cost',
    year: 2021,
    url: 'https://arxiv.org/abs/2107.05768',
    authors: 'Ren et al.',
  },
} as const satisfies Record<string, PaperRef>;
