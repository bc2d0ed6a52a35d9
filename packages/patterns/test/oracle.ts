import {
  type BlockMask,
  createBlockMask,
  type MaskShape,
  type PatternPlugin,
  type SparseMask,
  sparseMaskToDense,
  toSparseMask,
} from '@sparseland/core';

/** Dense 0/1 matrix [heads][qLength][kvLength] of a MaskMod: the oracle every fast builder is checked against. */
export function denseOf(mod: (h: number, q: number, k: number) => boolean, shape: MaskShape): Uint8Array {
  const { heads, qLength, kvLength, qOffset } = shape;
  const out = new Uint8Array(heads * qLength * kvLength);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < qLength; i++) {
      const base = (h * qLength + i) * kvLength;
      for (let k = 0; k < kvLength; k++) if (mod(h, qOffset + i, k)) out[base + k] = 1;
    }
  }
  return out;
}

/** Block states [heads][qBlocks][kBlocks] (0 empty, 1 partial, 2 full), a broadcast mask expanded to `heads`. */
export function blockStates(mask: BlockMask, heads: number): Uint8Array {
  const one = mask.toBlockDense();
  if (mask.heads === heads) return one;
  const per = mask.qBlocks * mask.kBlocks;
  const out = new Uint8Array(heads * per);
  for (let h = 0; h < heads; h++) out.set(one.subarray(0, per), h * per);
  return out;
}

/** First place two equal-length arrays differ, described for a failure message. */
export function firstMismatch(a: Uint8Array, b: Uint8Array, rows: number, cols: number, what: string): string | undefined {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const h = Math.floor(i / (rows * cols));
      return `${what}: head ${h}, row ${Math.floor(i / cols) % rows}, col ${i % cols}: fast ${a[i]}, oracle ${b[i]}`;
    }
  }
  return undefined;
}

/**
 * Checks a pattern's fast builder against createBlockMask(maskMod) on one shape: the same pairs, and, where the
 * builder emits blocks only, exactly the same full / partial / empty classification. Returns a message or undefined.
 */
export function checkAgainstOracle(
  plugin: PatternPlugin,
  params: unknown,
  shape: MaskShape,
  sizes: { blockQ: number; blockK: number },
): string | undefined {
  const instance = plugin.build(plugin.parseParams(params));
  const mod = instance.maskMod?.(shape);
  if (!mod || !instance.mask) return 'pattern has no maskMod or no fast builder';
  const fast: SparseMask = toSparseMask(instance.mask(shape, sizes), shape);
  const exact = denseOf(mod, shape);
  const pairs = firstMismatch(sparseMaskToDense(fast, shape), exact, shape.qLength, shape.kvLength, 'pairs');
  if (pairs) return pairs;
  if (!fast.blocks) return fast.columns ? undefined : 'the builder returned no blocks';
  const expected = fast.columns
    ? statesBesideColumns(exact, fast.columns.toDense({ heads: shape.heads }), shape, sizes)
    : blockStates(createBlockMask(mod, shape, sizes), shape.heads);
  return firstMismatch(blockStates(fast.blocks, shape.heads), expected, fast.blocks.qBlocks, fast.blocks.kBlocks, 'block states');
}

/**
 * The block states a builder that gathers columns must produce: empty where the columns hold every kept pair (nothing
 * left to compute), otherwise full where the pattern keeps every pair and partial where it does not.
 */
function statesBesideColumns(
  exact: Uint8Array,
  columns: Uint8Array,
  shape: MaskShape,
  sizes: { blockQ: number; blockK: number },
): Uint8Array {
  const { heads, qLength, kvLength } = shape;
  const qBlocks = Math.ceil(qLength / sizes.blockQ);
  const kBlocks = Math.ceil(kvLength / sizes.blockK);
  const out = new Uint8Array(heads * qBlocks * kBlocks);
  for (let h = 0; h < heads; h++) {
    for (let qb = 0; qb < qBlocks; qb++) {
      for (let kb = 0; kb < kBlocks; kb++) {
        let all = true;
        let outside = false;
        for (let i = qb * sizes.blockQ; i < Math.min(qLength, (qb + 1) * sizes.blockQ); i++) {
          for (let k = kb * sizes.blockK; k < Math.min(kvLength, (kb + 1) * sizes.blockK); k++) {
            const at = (h * qLength + i) * kvLength + k;
            if (!exact[at]) all = false;
            else if (!columns[at]) outside = true;
          }
        }
        out[(h * qBlocks + qb) * kBlocks + kb] = !outside ? 0 : all ? 2 : 1;
      }
    }
  }
  return out;
}
