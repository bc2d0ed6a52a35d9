// The engine: a Web Worker holding the model, the captured Q/K/V, the dense oracles and the backends, so the page
// stays responsive while the model runs. Requests are answered in order; a new load supersedes the previous one.
import { compileRecipe, createRegistry } from '@sparseland/core';
import type { LoadedModel } from '@sparseland/eval';
import { argmax } from '@sparseland/model';
import { registry } from '../registry.js';
import { BackendPool, messageOf } from './backends.js';
import { cachedText } from './cached-bytes.js';
import { CaptureGate, gatedBackend } from './capture-gate.js';
import { headMaskOf, measureMethod, runMethod } from './evaluate-method.js';
import { loadModel } from './load-model.js';
import { passageOf, tokenPieces } from './passage.js';
import {
  type AttentionMap,
  type EngineEvent,
  type EngineReply,
  type EngineRequest,
  type GenerateResult,
  type InitResult,
  type LayerSummary,
  type LoadRequest,
  MAX_GENERATE_TOKENS,
  type MethodOverlay,
  type ModelInfo,
} from './protocol.js';
import { TraceStore } from './trace-store.js';

const backends = new BackendPool();
const gate = new CaptureGate();
let store: TraceStore | undefined;
/** The loaded model and its passage, which generation continues. */
let passage: { readonly loaded: LoadedModel; readonly tokens: readonly number[] } | undefined;
let loads = 0;

class Superseded extends Error {
  constructor() {
    super('superseded by a newer load');
  }
}

function reply(message: EngineReply, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(message, transfer);
}

async function init(): Promise<InitResult> {
  return {
    cpu: await backends.cpuStatus(),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    cores: globalThis.navigator?.hardwareConcurrency ?? 1,
  };
}

/** Loads the model, cuts the passage and runs it densely on the CPU backend, publishing each layer as it is done. */
async function load(request: LoadRequest, emit: (event: EngineEvent) => void): Promise<ModelInfo> {
  const generation = ++loads;
  store?.fail(new Superseded());
  emit({ stage: 'fetch', message: `loading ${request.model.name}` });
  const t0 = performance.now();
  const [loaded, text]: [LoadedModel, string] = await Promise.all([
    loadModel(request.model),
    'url' in request.text ? cachedText(request.text.url) : request.text.content,
  ]);
  if (generation !== loads) throw new Superseded();
  const config = loaded.model.config;
  const t1 = performance.now();
  const tokens = passageOf(loaded, text, request.offset, request.positions);
  const t2 = performance.now();
  const current = new TraceStore(config.layers);
  store = current;
  passage = { loaded, tokens };
  const { backend } = await backends.cpuBackend();
  const loadMs = { fetchAndParse: t1 - t0, passage: t2 - t1, backend: performance.now() - t2 };
  const session = loaded.model.createSession({
    backend: gatedBackend(backend, gate),
    onLayer: ({ layer, q, k, v, output }) => {
      if (generation !== loads) throw new Superseded();
      current.add({ layer, q, k, v, output });
    },
  });
  // Not awaited: requests for early layers are answered while later layers run.
  const run = session
    .prefill(tokens)
    .catch((error: unknown) => current.fail(error instanceof Error ? error : new Error(String(error))))
    .finally(() => session.dispose());
  void run;
  return {
    name: loaded.name,
    layers: config.layers,
    heads: config.heads,
    kvHeads: config.kvHeads,
    headDim: config.headDim,
    seqLen: config.seqLen,
    tokens,
    pieces: tokenPieces(loaded, tokens),
    text: loaded.tokenizer.decode(tokens),
    extrapolated: tokens.length > config.seqLen,
    loadMs,
  };
}

/** KV bytes of one layer's full cache: every written token of every kv head, float32 K and V and an int32 position. */
const fullLayerBytes = (written: number, kvHeads: number, dim: number) => written * kvHeads * (2 * dim * 4 + 4);

/**
 * Greedy decoding after the passage under a KV policy on the CPU backend (gated, so maps and overlays come first),
 * reporting the tokens, the KV bytes held (caches + policy state) against the full cache's, and ms per token.
 */
async function generate(request: Extract<EngineRequest, { type: 'generate' }>, emit: (e: EngineEvent) => void): Promise<GenerateResult> {
  if (!passage) throw new Error('no model is loaded yet');
  if (!Number.isInteger(request.maxTokens) || request.maxTokens < 1 || request.maxTokens > MAX_GENERATE_TOKENS) {
    throw new Error(`maxTokens must be an integer in [1, ${MAX_GENERATE_TOKENS}], got ${request.maxTokens}`);
  }
  const { loaded, tokens } = passage;
  const compiled = request.kv
    ? compileRecipe({ default: { method: 'dense' }, kv: request.kv }, registry)
    : compileRecipe({ method: 'dense' }, createRegistry({ plugins: [] }));
  const { backend } = await backends.cpuBackend();
  const session = loaded.model.createSession({ backend: gatedBackend(backend, gate), recipe: compiled });
  const { kvHeads, headDim } = loaded.model.config;
  const generated: number[] = [];
  let stepMs = 0;
  const progress = () => ({
    tokens: [...generated],
    text: loaded.tokenizer.decode(generated),
    bytes: session.cache.reduce((n, c) => n + c.bytes() + (compiled.kvPolicy?.stateBytes?.(c) ?? 0), 0),
    fullBytes: session.cache.reduce((n, c) => n + fullLayerBytes(c.written(), kvHeads, headDim), 0),
    msPerToken: stepMs / Math.max(1, generated.length - 1),
  });
  try {
    let logits = await session.prefill([...tokens]);
    for (let i = 0; i < request.maxTokens; i++) {
      const next = argmax(logits);
      generated.push(next);
      if (i + 1 < request.maxTokens) {
        const t0 = performance.now();
        logits = await session.step(next);
        stepMs += performance.now() - t0;
      }
      const done = i + 1;
      emit({ stage: 'generate', message: `${done} of ${request.maxTokens} tokens`, done, total: request.maxTokens, generated: progress() });
    }
    return { ...progress(), promptTokens: tokens.length };
  } finally {
    await session.dispose();
  }
}

function currentStore(): TraceStore {
  if (!store) throw new Error('no model is loaded yet');
  return store;
}

/**
 * Two lanes of work, each one task at a time: the urgent lane (maps and overlays: what the user waits to see) and
 * the slow lane (numbers, then whole-model measurements). Slow work yields between heads, so a switch of method is
 * drawn while the numbers of the previous one are still being measured. Work of a superseded evaluation is dropped.
 */
const URGENT = 0;
const NUMBERS = 1;
const BACKGROUND = 2;
interface Task {
  readonly priority: number;
  readonly slot?: string;
  readonly generation?: number;
  readonly run: () => Promise<void>;
  readonly drop: () => void;
}
const lanes = { urgent: { tasks: [] as Task[], running: false }, slow: { tasks: [] as Task[], running: false } };
const slotGeneration = new Map<string, number>();

function schedule(task: Task): void {
  const lane = task.priority === URGENT ? lanes.urgent : lanes.slow;
  lane.tasks.push(task);
  lane.tasks.sort((a, b) => a.priority - b.priority);
  void pump(lane);
}

async function pump(lane: { tasks: Task[]; running: boolean }): Promise<void> {
  if (lane.running) return;
  lane.running = true;
  try {
    for (let task = lane.tasks.shift(); task; task = lane.tasks.shift()) {
      if (task.slot !== undefined && task.generation !== slotGeneration.get(task.slot)) task.drop();
      else await task.run();
    }
  } finally {
    lane.running = false;
  }
}

function fail(id: number, error: unknown): void {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  reply(code === undefined ? { id, kind: 'error', message: messageOf(error) } : { id, kind: 'error', message: messageOf(error), code });
}

/**
 * Runs `body` as a task; its error answers the request. Urgent work on a captured `layer` holds the capture gate
 * while it runs, so the forward pass of later layers waits for it.
 */
function task(id: number, priority: number, body: () => Promise<void>, slot?: { name: string; generation: number }, layer?: number): void {
  const run = async () => {
    if (priority !== URGENT || layer === undefined) return body();
    await currentStore().layer(layer);
    const release = gate.hold();
    try {
      await body();
    } finally {
      release();
    }
  };
  schedule({
    priority,
    ...(slot ? { slot: slot.name, generation: slot.generation } : {}),
    run: () => run().catch((error: unknown) => fail(id, error)),
    drop: () => reply({ id, kind: 'error', message: 'superseded by a newer request', code: 'E_SUPERSEDED' }),
  });
}

function evaluate(id: number, request: Extract<EngineRequest, { type: 'evaluate' }>): void {
  const generation = (slotGeneration.get(request.slot) ?? 0) + 1;
  slotGeneration.set(request.slot, generation);
  const slot = { name: request.slot, generation };
  task(
    id,
    URGENT,
    async () => {
      const compiled = compileRecipe(request.recipe, registry);
      const backend = await backends.get(request.backend);
      const s = currentStore();
      const run = await runMethod(s, request.layer, compiled, backend);
      const headMask = run.run.mask ? headMaskOf(run.run.mask, run.shape, request.head) : undefined;
      const overlay: MethodOverlay = { layer: request.layer, head: request.head, headMask, attentionMs: run.attentionMs };
      reply({ id, kind: 'partial', value: overlay }, headMask ? [headMask.buffer] : []);
      task(id, NUMBERS, async () => reply({ id, kind: 'result', value: await measureMethod(s, run) }), slot);
    },
    slot,
    request.layer,
  );
}

function handle(id: number, request: EngineRequest): void {
  const emit = (event: EngineEvent) => reply({ id, kind: 'event', event });
  const now = (body: () => Promise<unknown>) =>
    body().then(
      (value) => reply({ id, kind: 'result', value }),
      (error: unknown) => fail(id, error),
    );
  switch (request.type) {
    case 'init':
      return void now(init);
    case 'load':
      return void now(() => load(request.request, emit));
    case 'captured':
      return void now(async () => {
        const s = currentStore();
        for (let layer = 0; layer < s.layerCount; layer++) {
          await s.layer(layer);
          emit({ stage: 'layer', message: `layer ${layer + 1} of ${s.layerCount} captured`, layer, done: layer + 1, total: s.layerCount });
        }
        return s.layerCount;
      });
    case 'traces':
      return void now(() => currentStore().all());
    case 'generate':
      return void now(() => generate(request, emit));
    case 'map':
      task(
        id,
        URGENT,
        async () => {
          const s = currentStore();
          const probs = await s.map(request.layer, request.head);
          const map: AttentionMap = { layer: request.layer, head: request.head, n: Math.round(Math.sqrt(probs.length)), probs };
          reply({ id, kind: 'result', value: map }, [probs.buffer]);
        },
        undefined,
        request.layer,
      );
      return;
    case 'evaluate':
      evaluate(id, request);
      return;
    case 'evaluate-layers':
      task(id, BACKGROUND, async () => {
        const compiled = compileRecipe(request.recipe, registry);
        const backend = await backends.get(request.backend);
        const s = currentStore();
        const out: LayerSummary[] = [];
        for (let layer = 0; layer < s.layerCount; layer++) {
          emit({ stage: 'measure', message: `measuring layer ${layer + 1} of ${s.layerCount}`, done: layer, total: s.layerCount });
          out.push((await measureMethod(s, await runMethod(s, layer, compiled, backend))).summary);
        }
        reply({ id, kind: 'result', value: out });
      });
      return;
  }
}

self.onmessage = (e: MessageEvent<{ id: number; request: EngineRequest }>) => handle(e.data.id, e.data.request);
