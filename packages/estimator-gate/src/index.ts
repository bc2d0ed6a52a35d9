// @sparseland/estimator-gate: learned gates (SeerAttention, Sparsifiner, DMA) and their training in TypeScript.

// Estimators
export { dma } from './estimators/dma.js';
export { seerAttention } from './estimators/seer-attention.js';
export { sparsifiner } from './estimators/sparsifiner.js';
export { gateEstimators } from './all.js';

// Weights: config, tensors, HDF5 files
export type { GateConfig, GateKind, GateTensor, GateWeights } from './gate-weights.js';
export { GATE_KINDS, GATE_LIMITS } from './gate-weights.js';
export { decodeGateWeights, encodeGateWeights, loadGateWeights } from './weights-io.js';

// Training: distilled samples, the loop, the models
export type { GateSample, SampleOptions, TraceItem } from './train/samples.js';
export { buildGateSample, MAX_SAMPLE_POSITIONS } from './train/samples.js';
export type { TrainGateOptions, TrainGateResult, TrainProgress } from './train/train-gate.js';
export { GATE_MODELS, learningRateAt, MAX_TRAIN_SAMPLES, trainGate } from './train/train-gate.js';
export type { GateModel, Gradients } from './models/gate-model.js';

export { PAPERS } from './papers.js';
