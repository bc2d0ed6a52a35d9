/**
 * out[t·outDim + o] = Σ_j x[t·inDim + j] · w[o·inDim + j] for `rows` rows of x: y = W·x per row, with W stored
 * (out, in) row-major as llama2.c does. Four rows share each load of a weight row (register blocking); sums run in
 * double precision. No allocation.
 */
export function matmulRows(out: Float32Array, x: Float32Array, w: Float32Array, rows: number, inDim: number, outDim: number): void {
  let t = 0;
  for (; t + 4 <= rows; t += 4) {
    const x0 = t * inDim;
    const x1 = x0 + inDim;
    const x2 = x1 + inDim;
    const x3 = x2 + inDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < inDim; j++) {
        const wj = w[wo + j] as number;
        s0 += (x[x0 + j] as number) * wj;
        s1 += (x[x1 + j] as number) * wj;
        s2 += (x[x2 + j] as number) * wj;
        s3 += (x[x3 + j] as number) * wj;
      }
      out[t * outDim + o] = s0;
      out[(t + 1) * outDim + o] = s1;
      out[(t + 2) * outDim + o] = s2;
      out[(t + 3) * outDim + o] = s3;
    }
  }
  for (; t < rows; t++) {
    const x0 = t * inDim;
    for (let o = 0; o < outDim; o++) {
      const wo = o * inDim;
      let s = 0;
      for (let j = 0; j < inDim; j++) s += (x[x0 + j] as number) * (w[wo + j] as number);
      out[t * outDim + o] = s;
    }
  }
}
