import { SparselandError } from '@sparseland/core';
import { createRng, describeValue, expectInteger, expectNumber } from '@sparseland/core/kit';
import { expectGateConfig, type GateConfig, type GateKind, type GateWeights } from '../gate-weights.js';
import { dmaModel } from '../models/dma-model.js';
import type { GateModel, Gradients } from '../models/gate-model.js';
import { seerGateModel } from '../models/seer-gate.js';
import { sparsifinerModel } from '../models/sparsifiner-model.js';
import { Adam } from './adam.js';
import type { GateSample } from './samples.js';

export const GATE_MODELS: Readonly<Record<GateKind, GateModel>> = {
  'seer-attention': seerGateModel,
  sparsifiner: sparsifinerModel,
  dma: dmaModel,
};

export interface TrainProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** Optimiser steps done and planned (the plan assumes no early stop). */
  readonly step: number;
  readonly steps: number;
  /** Mean training loss of the last step's batch. */
  readonly loss: number;
  /** Held-out loss after the epoch (set on the last step of an epoch). */
  readonly validationLoss?: number;
}

export interface TrainGateOptions {
  readonly kind: GateKind;
  /** Training samples (see buildGateSample); every sample must come from the config's geometry. */
  readonly train: readonly GateSample[];
  /** Held-out samples for early stopping (at least one). */
  readonly validation: readonly GateSample[];
  /** Gate sizes: hidden (SeerAttention 128, Sparsifiner rank 16), layers/heads/dim from the samples when absent. */
  readonly hidden?: number;
  /** Most epochs (default 30). */
  readonly epochs?: number;
  /** Samples per optimiser step (default 4). */
  readonly batchSize?: number;
  /** Peak learning rate (default 1e-3, SeerAttention's distillation script), with linear warm-up and cosine decay. */
  readonly learningRate?: number;
  /** Warm-up steps (default 20, SeerAttention's script). */
  readonly warmupSteps?: number;
  /** Epochs without a better held-out loss before stopping (default 3). */
  readonly patience?: number;
  /** Seeds the initial weights and the data order (default 0). */
  readonly seed?: number;
  /** Start from these weights instead of a fresh initialisation. */
  readonly initial?: GateWeights;
  readonly onProgress?: (progress: TrainProgress) => void;
}

export interface TrainGateResult {
  /** The weights of the epoch with the lowest held-out loss. */
  readonly weights: GateWeights;
  /** Per step: the batch's training loss. */
  readonly trainLoss: readonly number[];
  /** Per epoch: held-out loss, and the step it was measured after. */
  readonly validation: readonly { readonly epoch: number; readonly step: number; readonly loss: number }[];
  readonly bestEpoch: number;
  readonly stoppedEarly: boolean;
}

/** Most samples one run trains on (each holds a pooled layer; Sparsifiner and DMA samples also hold K or V). */
export const MAX_TRAIN_SAMPLES = 100_000;

/**
 * Trains one gate on distilled samples: Adam, a seeded shuffle of the samples every epoch, warm-up then cosine
 * learning rate, the held-out loss after every epoch, and early stopping that keeps the best epoch's weights.
 * The base model is not involved (frozen): only the gate's tensors change.
 */
export function trainGate(options: TrainGateOptions): TrainGateResult {
  const model = GATE_MODELS[options?.kind];
  if (!model)
    throw new SparselandError(
      'E_PARAMS',
      `kind must be one of ${Object.keys(GATE_MODELS).join(', ')}, got ${describeValue(options?.kind)}`,
    );
  const train = options.train;
  if (!Array.isArray(train) || train.length === 0)
    throw new SparselandError('E_PARAMS', 'trainGate: train must be a non-empty array of samples');
  if (!Array.isArray(options.validation) || options.validation.length === 0) {
    throw new SparselandError(
      'E_PARAMS',
      'trainGate: validation must be a non-empty array of samples (early stopping needs a held-out split)',
    );
  }
  expectInteger(train.length + options.validation.length, 'samples', 1, MAX_TRAIN_SAMPLES);
  const epochs = expectInteger(options.epochs ?? 30, 'epochs', 1, 10_000);
  const batchSize = expectInteger(options.batchSize ?? 4, 'batchSize', 1, train.length);
  const lr = expectNumber(options.learningRate ?? 1e-3, 'learningRate', 1e-8, 1);
  const warmup = expectInteger(options.warmupSteps ?? 20, 'warmupSteps', 0);
  const patience = expectInteger(options.patience ?? 3, 'patience', 1);
  const seed = options.seed ?? 0;
  const config = options.initial?.config ?? configFromSamples(options.kind, train, options.hidden);
  for (const s of [...train, ...options.validation]) expectSampleFits(config, s);
  const weights = options.initial ? cloneWeights(options.initial) : model.init(config, seed);

  const adam = new Adam();
  const rng = createRng(seed + 1);
  const stepsPerEpoch = Math.ceil(train.length / batchSize);
  const steps = epochs * stepsPerEpoch;
  const trainLoss: number[] = [];
  const validation: { epoch: number; step: number; loss: number }[] = [];
  let best = { loss: Infinity, epoch: 0, weights: cloneWeights(weights) };
  let step = 0;
  let stoppedEarly = false;
  const order = Array.from(train.keys());
  for (let epoch = 1; epoch <= epochs; epoch++) {
    shuffle(order, rng.next);
    for (let b = 0; b < stepsPerEpoch; b++) {
      const batch = order.slice(b * batchSize, (b + 1) * batchSize);
      const grads = zeroGradients(weights);
      let loss = 0;
      for (const i of batch) loss += model.loss(weights, train[i] as GateSample, grads);
      for (const g of Object.values(grads)) for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) / batch.length;
      adam.step(weights.tensors, grads, learningRateAt(step, steps, lr, warmup));
      step++;
      trainLoss.push(loss / batch.length);
      const last = b === stepsPerEpoch - 1;
      const validationLoss = last ? meanLoss(model, weights, options.validation) : undefined;
      if (validationLoss !== undefined) validation.push({ epoch, step, loss: validationLoss });
      options.onProgress?.({
        epoch,
        epochs,
        step,
        steps,
        loss: loss / batch.length,
        ...(validationLoss !== undefined ? { validationLoss } : {}),
      });
    }
    const current = validation[validation.length - 1] as { loss: number };
    if (current.loss < best.loss) best = { loss: current.loss, epoch, weights: cloneWeights(weights) };
    else if (epoch - best.epoch >= patience) {
      stoppedEarly = epoch < epochs;
      break;
    }
  }
  return { weights: best.weights, trainLoss, validation, bestEpoch: best.epoch, stoppedEarly };
}

/** Linear warm-up to `peak`, then cosine decay to 0 at `total` steps. */
export function learningRateAt(step: number, total: number, peak: number, warmup: number): number {
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const progress = (step - warmup) / Math.max(1, total - warmup);
  return 0.5 * peak * (1 + Math.cos(Math.PI * Math.min(1, progress)));
}

/** Mean loss of `weights` over samples (no gradient). */
export function meanLoss(model: GateModel, weights: GateWeights, samples: readonly GateSample[]): number {
  let sum = 0;
  for (const s of samples) sum += model.loss(weights, s);
  return sum / samples.length;
}

function configFromSamples(kind: GateKind, samples: readonly GateSample[], hidden: number | undefined): GateConfig {
  const first = samples[0] as GateSample;
  const layers = Math.max(...samples.map((s) => s.layer)) + 1;
  return expectGateConfig({
    kind,
    layers,
    heads: first.shape.heads,
    kvHeads: first.shape.kvHeads,
    dim: first.shape.dim,
    hidden: hidden ?? (kind === 'sparsifiner' ? 16 : 128),
    blockSize: first.blockSize,
  });
}

function expectSampleFits(config: GateConfig, s: GateSample): void {
  const { heads, kvHeads, dim } = s.shape;
  if (
    heads !== config.heads ||
    kvHeads !== config.kvHeads ||
    dim !== config.dim ||
    s.blockSize !== config.blockSize ||
    s.layer >= config.layers
  ) {
    throw new SparselandError(
      'E_SHAPE',
      `a sample of layer ${s.layer} (${heads}/${kvHeads} heads, dim ${dim}, blocks of ${s.blockSize}) does not fit the gate (${config.layers} layers, ${config.heads}/${config.kvHeads} heads, dim ${config.dim}, blocks of ${config.blockSize})`,
    );
  }
  if (config.kind === 'sparsifiner' && (!s.rows || !s.k))
    throw new SparselandError('E_PARAMS', 'sparsifiner samples need rows and keys: build them with kinds including "sparsifiner"');
  if (config.kind === 'dma' && (!s.v || !s.columns))
    throw new SparselandError('E_PARAMS', 'dma samples need values and column masses: build them with kinds including "dma"');
}

function zeroGradients(weights: GateWeights): Gradients {
  const grads: Gradients = {};
  for (const [name, t] of Object.entries(weights.tensors)) grads[name] = new Float64Array(t.data.length);
  return grads;
}

export function cloneWeights(w: GateWeights): GateWeights {
  const tensors: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
  for (const [name, t] of Object.entries(w.tensors)) tensors[name] = { shape: [...t.shape], data: t.data.slice() };
  return { config: { ...w.config }, tensors, meta: { ...w.meta } };
}

function shuffle(a: number[], next: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
}
