/**
 * The sizes eval's workloads accept, on top of core's `LIMITS` (heads, head dim and values per tensor). Past one, a
 * workload is refused with E_PARAMS before anything is generated, traced or allocated. They keep one item's tensors,
 * the dense oracle and a method's output within a few GB of one Node process.
 */
export const WORKLOAD_LIMITS = Object.freeze({
  /** Positions of a synthetic or MQAR input, of a real model's traced passage and of an end-to-end run: 2^17. */
  length: 1 << 17,
  /** Items one synthetic or MQAR workload generates (each is generated when it is read). */
  samples: 4096,
  /** Tokens MQAR draws its keys, values and filler from. */
  vocab: 1 << 24,
  /** Float32 values one real-model trace holds (layers · (heads + 2 · kvHeads) · positions · head dim): 1 GiB. */
  traceValues: 2 ** 28,
});
