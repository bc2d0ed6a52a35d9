// Traces of tinybooks-2k over fixed windows of the fixture texts, distilled into gate samples (dev scripts only; the
// `sparseland train-gate` command does the same for users).
import type { Backend } from '@sparseland/core';
import { collectItems, realTraceWorkload } from '@sparseland/eval';
import { buildGateSample, type GateKind, type GateSample, type TraceItem } from '../src/index.js';

export interface Window {
  readonly text: string;
  readonly offset: number;
}

/** `count` windows spread evenly over a text of `chars` characters, starting at `start`. */
export function spreadWindows(text: string, chars: number, count: number, start = 0, span = 2048): Window[] {
  const step = Math.floor((chars - start - span * 2) / count);
  return Array.from({ length: count }, (_, i) => ({ text, offset: start + i * step }));
}

export async function traceWindow(w: Window, backend: Backend, content: string, positions = 2048): Promise<TraceItem[]> {
  const workload = await realTraceWorkload({
    model: 'tinybooks-2k',
    text: { name: w.text, content },
    offset: w.offset,
    positions,
    backend,
  });
  return (await collectItems(workload)) as TraceItem[];
}

export async function samplesOf(
  traces: readonly TraceItem[],
  backend: Backend,
  kinds: readonly GateKind[],
  seed: number,
): Promise<GateSample[]> {
  const out: GateSample[] = [];
  for (const t of traces) out.push(await buildGateSample(t, { backend, kinds, seed: seed + t.layer }));
  return out;
}
