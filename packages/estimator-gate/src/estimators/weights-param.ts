import { z } from 'zod';

/** The `weights` parameter every gate estimator has: a file path or URL, so recipes stay plain JSON. */
export const weightsParam = z
  .string()
  .max(4096)
  .default('')
  .describe("HDF5 gate weights (a path in Node, a URL in browsers) from `sparseland train-gate`; '' = the untrained gate");
