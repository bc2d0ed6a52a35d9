import { SparselandError } from '@sparseland/core';
import { describeValue } from '@sparseland/core/kit';

/** The three trainable estimators of this package. */
export type GateKind = 'seer-attention' | 'sparsifiner' | 'dma';
export const GATE_KINDS: readonly GateKind[] = ['seer-attention', 'sparsifiner', 'dma'];

/** The attention geometry a set of gate weights was trained for, and the gate's own sizes. */
export interface GateConfig {
  readonly kind: GateKind;
  /** Layers of the model (one set of weights each). */
  readonly layers: number;
  readonly heads: number;
  readonly kvHeads: number;
  /** Head dim of Q, K and V. */
  readonly dim: number;
  /** Width of the gate's projections: SeerAttention's hidden size (128), Sparsifiner's rank; unused by DMA. */
  readonly hidden: number;
  /** Block size the gate was trained with (SeerAttention: 64 only). */
  readonly blockSize: number;
}

export interface GateTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Trained (or initial) weights: named float32 tensors, the config, and free-form string metadata. */
export interface GateWeights {
  readonly config: GateConfig;
  readonly tensors: Readonly<Record<string, GateTensor>>;
  readonly meta: Readonly<Record<string, string>>;
}

/** Every size a user controls has a limit: gates are small models. */
export const GATE_LIMITS = { layers: 256, heads: 256, dim: 1024, hidden: 1024, blockSize: 4096 } as const;

export function expectGateConfig(config: unknown): GateConfig {
  const c = config as Partial<GateConfig> | null;
  if (typeof c !== 'object' || c === null)
    throw new SparselandError('E_PARAMS', `gate config: expected an object, got ${describeValue(config)}`);
  if (!GATE_KINDS.includes(c.kind as GateKind)) {
    throw new SparselandError('E_PARAMS', `gate config kind must be one of ${GATE_KINDS.join(', ')}, got ${describeValue(c.kind)}`);
  }
  const int = (name: keyof typeof GATE_LIMITS | 'kvHeads', max: number) => {
    const v = c[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
      throw new SparselandError('E_PARAMS', `gate config ${name} must be an integer in [1, ${max}], got ${describeValue(v)}`);
    }
    return v;
  };
  const heads = int('heads', GATE_LIMITS.heads);
  const kvHeads = int('kvHeads', GATE_LIMITS.heads);
  if (heads % kvHeads !== 0)
    throw new SparselandError('E_PARAMS', `gate config heads (${heads}) must be a multiple of kvHeads (${kvHeads})`);
  const hidden = int('hidden', GATE_LIMITS.hidden);
  if (c.kind === 'seer-attention' && hidden % 2 !== 0) {
    throw new SparselandError('E_PARAMS', `seer-attention hidden must be even (RoPE rotates pairs), got ${hidden}`);
  }
  return {
    kind: c.kind as GateKind,
    layers: int('layers', GATE_LIMITS.layers),
    heads,
    kvHeads,
    dim: int('dim', GATE_LIMITS.dim),
    hidden,
    blockSize: int('blockSize', GATE_LIMITS.blockSize),
  };
}

/** The tensor `name` of `weights`, checked to hold `size` values. */
export function tensorOf(weights: GateWeights, name: string, size: number): Float32Array {
  const t = weights.tensors[name];
  if (!t) throw new SparselandError('E_MODEL_FORMAT', `${weights.config.kind} gate weights lack tensor "${name}"`);
  if (t.data.length !== size) {
    throw new SparselandError(
      'E_MODEL_FORMAT',
      `${weights.config.kind} gate tensor "${name}" holds ${t.data.length} values, expected ${size}`,
    );
  }
  return t.data;
}

/** Throws E_SHAPE unless the call's geometry is the one the gate was trained for. */
export function expectGateFits(
  config: GateConfig,
  shape: { heads: number; kvHeads: number; dim: number },
  layer: number,
  name: string,
): void {
  if (shape.heads !== config.heads || shape.kvHeads !== config.kvHeads || shape.dim !== config.dim) {
    throw new SparselandError(
      'E_SHAPE',
      `${name}: the gate was trained for ${config.heads} query / ${config.kvHeads} kv heads of dim ${config.dim}, the call has ${shape.heads} / ${shape.kvHeads} of dim ${shape.dim}`,
    );
  }
  if (!Number.isInteger(layer) || layer < 0 || layer >= config.layers) {
    throw new SparselandError('E_SHAPE', `${name}: the gate has ${config.layers} layers, the call is layer ${describeValue(layer)}`);
  }
}
