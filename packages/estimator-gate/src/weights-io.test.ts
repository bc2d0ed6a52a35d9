import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHeadTensor, createReferenceBackend } from '@sparseland/core';
import { createCostMeter, resolveAttentionShape } from '@sparseland/core/kit';
import { describe, expect, it } from 'vitest';
import { seerAttention } from './estimators/seer-attention.js';
import { seerGateModel } from './models/seer-gate.js';
import { decodeGateWeights, encodeGateWeights, loadGateWeights } from './weights-io.js';

const config = { kind: 'seer-attention' as const, layers: 2, heads: 2, kvHeads: 1, dim: 4, hidden: 6, blockSize: 8 };

describe('gate weights in HDF5', () => {
  it('round-trip every tensor, the config and the metadata exactly', async () => {
    const weights = { ...seerGateModel.init(config, 5), meta: { texts: 'a,b', bestEpoch: '3' } };
    const back = await decodeGateWeights(await encodeGateWeights(weights));
    expect(back.config).toEqual(config);
    expect(back.meta).toEqual({ texts: 'a,b', bestEpoch: '3' });
    for (const [name, t] of Object.entries(weights.tensors)) {
      expect(back.tensors[name]?.shape).toEqual(t.shape);
      expect(Array.from(back.tensors[name]?.data ?? [])).toEqual(Array.from(t.data));
    }
  });

  it('reject what is not gate weights, and calls the gate does not fit, with coded errors', async () => {
    await expect(decodeGateWeights(new Uint8Array(64))).rejects.toThrow(/E_MODEL_FORMAT.*not a readable HDF5 file/);
    await expect(loadGateWeights('/nonexistent/gate.h5')).rejects.toThrow(/E_MODEL_FORMAT.*cannot read/);
    await expect(encodeGateWeights({ ...seerGateModel.init(config, 1), config: { ...config, hidden: 5 } })).rejects.toThrow(
      /hidden must be even/,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'gate-')), 'g.h5');
    writeFileSync(file, await encodeGateWeights(seerGateModel.init(config, 2)));
    const run = (heads: number, layer: number, block: number) => {
      const q = createHeadTensor(heads, 20, 4);
      const k = createHeadTensor(1, 20, 4);
      const shape = resolveAttentionShape({ q, k, v: k });
      const estimate = seerAttention.build(seerAttention.parseParams({ weights: file }));
      return estimate(
        { q, k, shape, causal: true },
        { backend: createReferenceBackend(), cost: createCostMeter(), seed: 0, layer, blockQ: block, blockK: block },
      );
    };
    await expect(run(2, 1, 8)).resolves.toBeDefined();
    await expect(run(4, 0, 8)).rejects.toThrow(/E_SHAPE.*trained for 2 query \/ 1 kv heads of dim 4, the call has 4 \/ 1 of dim 4/);
    await expect(run(2, 2, 8)).rejects.toThrow(/E_SHAPE.*the gate has 2 layers, the call is layer 2/);
    await expect(run(2, 0, 16)).rejects.toThrow(/E_PARAMS.*trained on 8×8 blocks, the recipe asks for 16×16/);
  });
});
