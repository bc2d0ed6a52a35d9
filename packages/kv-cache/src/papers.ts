import type { PaperRef } from '@sparseland/core';

/** Every paper the KV-cache policies cite, in one place (title, year, link). */
export const PAPERS = {
  fullCache: {
    title: 'Attention Is All You Need',
    year: 2017,
    url: 'https://arxiv.org/abs/1706.03762',
    authors: 'Vaswani et al.',
  },
  streamingLlm: {
    title: 'Efficient Streaming Language Models with Attention Sinks',
    year: 2023,
    url: 'https://arxiv.org/abs/2309.17453',
    authors: 'Xiao et al.',
  },
  h2o: {
    title: 'H2O: Heavy-Hitter Oracle for Efficient Generative Inference of Large Language Models',
    year: 2023,
    url: 'https://arxiv.org/abs/2306.14048',
    authors: 'Zhang et al.',
  },
  tova: {
    title: 'Transformers are Multi-State RNNs',
    year: 2024,
    url: 'https://arxiv.org/abs/2401.06104',
    authors: 'Oren et al.',
  },
  snapkv: {
    title: 'SnapKV: LLM Knows What You are Looking for Before Generation',
    year: 2024,
    url: 'https://arxiv.org/abs/2404.14469',
    authors: 'Li et al.',
  },
  pyramidkv: {
    title: 'PyramidKV: Dynamic KV Cache Compression based on Pyramidal Information Funneling',
    year: 2024,
    url: 'https://arxiv.org/abs/2406.02069',
    authors: 'Cai et al.',
  },
  adakv: {
    title: 'Ada-KV: Optimizing KV Cache Eviction by Adaptive Budget Allocation for Efficient LLM Inference',
    year: 2024,
    url: 'https://arxiv.org/abs/2407.11550',
    authors: 'Feng et al.',
  },
  expectedAttention: {
    title: 'Expected Attention: KV Cache Compression by Estimating Attention from Future Queries Distribution',
    year: 2025,
    url: 'https://arxiv.org/abs/2510.00636',
    authors: 'Devoto, Jeblick, Jégou',
  },
  quest: {
    title: 'Quest: Query-Aware Sparsity for Efficient Long-Context LLM Inference',
    year: 2024,
    url: 'https://arxiv.org/abs/2406.10774',
    authors: 'Tang et al.',
  },
  tidalDecode: {
    title: 'TidalDecode: Fast and Accurate LLM Decoding with Position Persistent Sparse Attention',
    year: 2024,
    url: 'https://arxiv.org/abs/2410.05076',
    authors: 'Yang et al.',
  },
  doubleSparsity: {
    title: 'Post-Training Sparse Attention with Double Sparsity',
    year: 2024,
    url: 'https://arxiv.org/abs/2408.07092',
    authors: 'Yang et al.',
  },
  duoAttention: {
    title: 'DuoAttention: Efficient Long-Context LLM Inference with Retrieval and Streaming Heads',
    year: 2024,
    url: 'https://arxiv.org/abs/2410.10819',
    authors: 'Xiao et al.',
  },
  kivi: {
    title: 'KIVI: A Tuning-Free Asymmetric 2bit Quantization for KV Cache',
    year: 2024,
    url: 'https://arxiv.org/abs/2402.02750',
    authors: 'Liu et al.',
  },
  zipcache: {
    title: 'ZipVL: Efficient Large Vision-Language Models with Dynamic Token Sparsification and KV Cache Compression',
    year: 2024,
    url: 'https://arxiv.org/abs/2410.08584',
    authors: 'He et al. (successor of ZipCache, arXiv 2405.14256)',
  },
} as const satisfies Record<string, PaperRef>;
