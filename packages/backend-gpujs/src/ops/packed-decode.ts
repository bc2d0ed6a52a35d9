import { type AttendResult, type PackedDecodeInput, type PackedDecodeOptions, TokenSelection } from '@sparseland/core';
import { resolvePackedDecodeCall, unpackKvHead } from '@sparseland/core/kit';
import type { GpuContext } from './context.js';
import { decode } from './decode.js';

/**
 * Backend.decodePacked on gpu.js: gpu.js kernels read float textures, and unpacking 2- and 4-bit codes needs bit
 * operations that not every gpu.js mode compiles, so the packed blocks are dequantised on the host (O(slots · dim))
 * and the ordinary decode kernels run on the result. Ragged heads are right-aligned (each head's newest slot at the
 * last position), which keeps packed decode's causal rule, and a selection skips the padding in front.
 */
export async function decodePacked(ctx: GpuContext, input: PackedDecodeInput, options: PackedDecodeOptions = {}): Promise<AttendResult> {
  const call = resolvePackedDecodeCall(input, options);
  const { kvHeads, dim, lengths } = call;
  let width = 0;
  for (const n of lengths) width = Math.max(width, n);
  const k = new Float32Array(kvHeads * width * dim);
  const v = new Float32Array(kvHeads * width * dim);
  let ragged = false;
  input.cache.heads.forEach((head, g) => {
    const rows = unpackKvHead(head, dim);
    const shift = width - rows.length;
    if (shift > 0) ragged = true;
    k.set(rows.keys, (g * width + shift) * dim);
    v.set(rows.values, (g * width + shift) * dim);
  });
  const selection = ragged
    ? TokenSelection.fromLists(
        Array.from(lengths, (n) => Int32Array.from({ length: n }, (_, s) => width - n + s)),
        width,
      )
    : undefined;
  return decode(
    ctx,
    { q: input.q, k: { data: k, heads: kvHeads, length: width, dim }, v: { data: v, heads: kvHeads, length: width, dim } },
    { selection, causal: call.causal, scale: call.scale },
  );
}
