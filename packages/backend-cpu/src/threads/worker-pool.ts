import { SparselandError } from '@sparseland/core';
import { nodeBuiltin } from '../environment.js';
import { WORKER_SOURCE } from '../generated/worker-source.js';
import type { WorkerRequest } from '../worker/worker-entry.js';

type Reply = { type: 'ready' } | { type: 'done' } | { type: 'error'; message: string };

/** One thread: a Node worker_threads Worker or a browser Web Worker, behind the same small interface. */
interface Thread {
  post(message: WorkerRequest): void;
  next(): Promise<Reply>;
  /** Node: let the process exit while the thread idles. */
  idle(idle: boolean): void;
  terminate(): Promise<void>;
}

function mailbox(): { push(reply: Reply): void; fail(error: Error): void; next(): Promise<Reply> } {
  const queued: Reply[] = [];
  const waiting: { resolve(r: Reply): void; reject(e: Error): void }[] = [];
  let failure: Error | undefined;
  return {
    push(reply) {
      const w = waiting.shift();
      if (w) w.resolve(reply);
      else queued.push(reply);
    },
    fail(error) {
      failure = error;
      for (const w of waiting.splice(0)) w.reject(error);
    },
    next() {
      const r = queued.shift();
      if (r) return Promise.resolve(r);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
  };
}

async function startNodeThread(): Promise<Thread> {
  const { Worker } = (await import(/* @vite-ignore */ nodeBuiltin('worker_threads'))) as typeof import('node:worker_threads');
  const source = `${WORKER_SOURCE}\nconst { parentPort } = require('node:worker_threads');\nsparselandCpuWorker.start({ post: (m) => parentPort.postMessage(m), listen: (f) => parentPort.on('message', f) });\n`;
  const worker = new Worker(source, { eval: true });
  const box = mailbox();
  worker.on('message', (m: Reply) => box.push(m));
  worker.on('error', (e: Error) => box.fail(e));
  worker.on('exit', (code) => box.fail(new Error(`cpu backend worker exited with code ${code}`)));
  return {
    post: (m) => worker.postMessage(m),
    next: () => box.next(),
    idle: (idle) => (idle ? worker.unref() : worker.ref()),
    terminate: async () => {
      await worker.terminate();
    },
  };
}

function startWebThread(): Thread {
  const source = `${WORKER_SOURCE}\nsparselandCpuWorker.start({ post: (m) => self.postMessage(m), listen: (f) => { self.onmessage = (e) => f(e.data); } });\n`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url);
  URL.revokeObjectURL(url);
  const box = mailbox();
  worker.onmessage = (e: MessageEvent<Reply>) => box.push(e.data);
  worker.onerror = (e: ErrorEvent) => box.fail(new Error(`cpu backend worker failed: ${e.message}`));
  return {
    post: (m) => worker.postMessage(m),
    next: () => box.next(),
    idle: () => {},
    terminate: async () => worker.terminate(),
  };
}

/** A fixed set of threads that all run each job on the shared memory (tasks are taken from a shared counter). */
export class WorkerPool {
  private constructor(private readonly threads: Thread[]) {}

  static async start(count: number, init: WorkerRequest, isNode: boolean): Promise<WorkerPool> {
    const threads: Thread[] = [];
    try {
      for (let t = 0; t < count; t++) threads.push(isNode ? await startNodeThread() : startWebThread());
      for (const t of threads) t.post(init);
      await Promise.all(threads.map((t) => expectReply(t, 'ready')));
    } catch (error) {
      await Promise.all(threads.map((t) => t.terminate()));
      throw new SparselandError(
        'E_BACKEND_UNAVAILABLE',
        `cpu backend: worker threads did not start: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    for (const t of threads) t.idle(true);
    return new WorkerPool(threads);
  }

  get size(): number {
    return this.threads.length;
  }

  /**
   * Runs the job at `job` on every thread; thread t uses the scratch at scratch[t]. `meanwhile` runs on the calling
   * thread once the job is posted, while the threads compute.
   */
  async run(job: number, scratch: readonly number[], buffer?: ArrayBufferLike, meanwhile?: () => void): Promise<void> {
    this.threads.forEach((t, i) => {
      t.idle(false);
      t.post(buffer ? { type: 'job', job, scr: scratch[i] as number, buffer } : { type: 'job', job, scr: scratch[i] as number });
    });
    try {
      meanwhile?.();
      await Promise.all(this.threads.map((t) => expectReply(t, 'done')));
    } finally {
      for (const t of this.threads) t.idle(true);
    }
  }

  async terminate(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.terminate()));
  }
}

async function expectReply(thread: Thread, type: 'ready' | 'done'): Promise<void> {
  const reply = await thread.next();
  if (reply.type === 'error') throw new Error(`cpu backend worker failed: ${reply.message}`);
  if (reply.type !== type) throw new Error(`cpu backend worker answered ${reply.type}, expected ${type}`);
}
