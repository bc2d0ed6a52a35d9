import { writeFileSync } from 'node:fs';
import { cpuUsage } from 'node:process';
import type { Backend } from '@sparseland/core';
import { collectItems, FIXTURE_TEXTS, type FixtureTextName, readFixtureText, realTraceWorkload, renderVegaLite } from '@sparseland/eval';
import { chooseBackend } from '../backend.js';
import { UnavailableError, UsageError } from '../exit-codes.js';
import { loadPlugins } from '../plugins.js';
import { createProgress } from '../progress.js';

export interface TrainGateCommandOptions {
  readonly model: string;
  readonly kind: string;
  readonly texts: string;
  readonly windows: string;
  readonly validation: string;
  readonly positions: string;
  readonly hidden?: string;
  readonly epochs: string;
  readonly lr: string;
  readonly batch: string;
  readonly patience: string;
  readonly seed: string;
  readonly out: string;
  readonly lossSvg?: string;
  readonly backend: string;
  readonly json?: boolean;
}

type Gate = typeof import('@sparseland/estimator-gate');

const int = (value: string, name: string, min: number, max: number): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${name} must be an integer in [${min}, ${max}], got "${value}"`);
  return n;
};

/**
 * `sparseland train-gate`: traces a fixture model densely over windows of its training texts, distils each layer into
 * gate samples (SeerAttention's max-pooled softmax map, Sparsifiner's block masses, DMA's column masses), trains the
 * gate with Adam and early stopping on held-out windows, and writes the weights (HDF5) and the loss curve (SVG).
 */
export async function trainGateCommand(options: TrainGateCommandOptions, out: (text: string) => void): Promise<void> {
  let gate: Gate;
  try {
    gate = await import('@sparseland/estimator-gate');
  } catch {
    throw new UnavailableError('sparseland train-gate needs @sparseland/estimator-gate; add it with your package manager');
  }
  if (options.model !== 'tinybooks-2k' && options.model !== 'stories260K') {
    throw new UsageError(`--model must be tinybooks-2k or stories260K, got "${options.model}"`);
  }
  if (!(gate.GATE_KINDS as readonly string[]).includes(options.kind)) {
    throw new UsageError(`--kind must be one of ${gate.GATE_KINDS.join(', ')}, got "${options.kind}"`);
  }
  const kind = options.kind as (typeof gate.GATE_KINDS)[number];
  const texts = options.texts.split(',').map((t) => t.trim());
  for (const t of texts)
    if (!(FIXTURE_TEXTS as readonly string[]).includes(t))
      throw new UsageError(`--texts: unknown text "${t}"; known: ${FIXTURE_TEXTS.join(', ')}`);
  const windows = int(options.windows, '--windows', texts.length, 10_000);
  const validation = int(options.validation, '--validation', 1, 10_000);
  const positions = int(options.positions, '--positions', 64, 16_384);
  const quiet = options.json === true;
  const { registry } = await loadPlugins();
  const backend: Backend = await chooseBackend(registry, options.backend);
  const started = performance.now();
  const cpuStart = cpuUsage();
  try {
    // Training windows spread evenly over each text; validation windows sit halfway between them (other passages).
    const plan: { text: FixtureTextName; offset: number; split: 'train' | 'validation' }[] = [];
    const contents = new Map<string, string>();
    for (const [t, text] of texts.entries()) {
      const content = await readFixtureText(text as FixtureTextName);
      contents.set(text, content);
      const nTrain = Math.floor(windows / texts.length) + (t < windows % texts.length ? 1 : 0);
      const nVal = Math.floor(validation / texts.length) + (t < validation % texts.length ? 1 : 0);
      const usable = content.length - positions * 4;
      if (usable <= 0) throw new UsageError(`text ${text} is too short for windows of ${positions} tokens`);
      const step = usable / Math.max(1, nTrain);
      for (let w = 0; w < nTrain; w++) plan.push({ text: text as FixtureTextName, offset: Math.floor(w * step), split: 'train' });
      for (let w = 0; w < nVal; w++)
        plan.push({
          text: text as FixtureTextName,
          offset: Math.floor((w + 0.5) * (usable / Math.max(1, nVal))) + positions,
          split: 'validation',
        });
    }
    const trainSamples: import('@sparseland/estimator-gate').GateSample[] = [];
    const validationSamples: import('@sparseland/estimator-gate').GateSample[] = [];
    const tracing = createProgress('tracing', quiet);
    for (const [i, w] of plan.entries()) {
      tracing.update(i, plan.length, `${w.text}@${w.offset}`);
      const workload = await realTraceWorkload({
        model: options.model,
        text: { name: w.text, content: contents.get(w.text) as string },
        offset: w.offset,
        positions,
        backend,
      });
      for (const item of await collectItems(workload)) {
        const sample = await gate.buildGateSample(item, { backend, kinds: [kind], seed: i });
        (w.split === 'train' ? trainSamples : validationSamples).push(sample);
      }
    }
    tracing.update(plan.length, plan.length, 'done');
    tracing.stop();
    const tracedMs = performance.now() - started;
    const training = createProgress('training', quiet);
    let lastValidation = Number.NaN;
    const result = gate.trainGate({
      kind,
      train: trainSamples,
      validation: validationSamples,
      ...(options.hidden !== undefined ? { hidden: int(options.hidden, '--hidden', 2, 1024) } : {}),
      epochs: int(options.epochs, '--epochs', 1, 10_000),
      batchSize: int(options.batch, '--batch', 1, trainSamples.length),
      learningRate: Number(options.lr),
      patience: int(options.patience, '--patience', 1, 10_000),
      seed: int(options.seed, '--seed', 0, 2 ** 31 - 1),
      onProgress: (p) => {
        if (p.validationLoss !== undefined) lastValidation = p.validationLoss;
        training.update(p.step, p.steps, `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} held-out ${lastValidation.toFixed(4)}`);
      },
    });
    training.stop();
    const totalMs = performance.now() - started;
    const cpu = cpuUsage(cpuStart);
    const best = result.validation.find((v) => v.epoch === result.bestEpoch);
    const meta = {
      model: options.model,
      texts: texts.join(','),
      windows: String(windows),
      validationWindows: String(validation),
      positions: String(positions),
      epochs: String(result.validation.length),
      bestEpoch: String(result.bestEpoch),
      heldOutLoss: String(best?.loss ?? Number.NaN),
      seed: options.seed,
      trainedWith: 'sparseland train-gate',
    };
    const bytes = await gate.encodeGateWeights({ ...result.weights, meta });
    writeFileSync(options.out, bytes);
    const svgPath = options.lossSvg ?? options.out.replace(/(\.h5)?$/, '.loss.svg');
    writeFileSync(svgPath, await renderVegaLite(lossCurveSpec(kind, result)));
    const summary = {
      kind,
      out: options.out,
      bytes: bytes.length,
      lossSvg: svgPath,
      samples: { train: trainSamples.length, validation: validationSamples.length },
      epochs: result.validation.length,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      heldOutLoss: best?.loss,
      wallSeconds: totalMs / 1000,
      tracingSeconds: tracedMs / 1000,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    };
    if (options.json) out(JSON.stringify(summary, null, 2));
    else {
      out(
        `${kind} gate: ${summary.samples.train} training and ${summary.samples.validation} held-out samples (layers × windows of ${positions} tokens)`,
      );
      out(
        `best epoch ${result.bestEpoch} of ${summary.epochs}${result.stoppedEarly ? ' (stopped early)' : ''}, held-out loss ${best?.loss.toFixed(4)}`,
      );
      out(`wrote ${options.out} (${bytes.length.toLocaleString('en-US')} bytes) and ${svgPath}`);
      out(
        `time ${summary.wallSeconds.toFixed(1)} s (tracing ${summary.tracingSeconds.toFixed(1)} s), CPU ${summary.cpuSeconds.toFixed(1)} s`,
      );
    }
  } finally {
    await backend.dispose();
  }
}

function lossCurveSpec(kind: string, result: import('@sparseland/estimator-gate').TrainGateResult) {
  const values = [
    ...result.trainLoss.map((loss, i) => ({ step: i + 1, loss, split: 'training batch' })),
    ...result.validation.map((v) => ({ step: v.step, loss: v.loss, split: 'held-out (per epoch)' })),
  ];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: `${kind} gate: KL loss`,
    width: 520,
    height: 300,
    data: { values },
    mark: { type: 'line' as const, point: false },
    encoding: {
      x: { field: 'step', type: 'quantitative' as const, title: 'optimiser step' },
      y: { field: 'loss', type: 'quantitative' as const, title: 'KL divergence', scale: { zero: false } },
      color: { field: 'split', type: 'nominal' as const, title: null },
    },
  };
}
