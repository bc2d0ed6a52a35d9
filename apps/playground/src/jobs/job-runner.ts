import type { Job, JobReply, JobResult } from './protocol.js';

/** Thrown when the user cancels a running job. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Runs one job at a time in a fresh worker; `cancel()` terminates it (its backend threads go with it), so a long
 * search stops at once rather than at the next progress report. A panel calls `arm()` when the user starts a job
 * whose inputs it still has to gather: a `cancel()` before `run()` then cancels that job too.
 */
export class JobRunner {
  private worker: Worker | undefined;
  private rejectCurrent: ((error: Error) => void) | undefined;
  /** A job armed before its worker exists, and whether it was cancelled then. */
  private early: 'none' | 'armed' | 'cancelled' = 'none';

  get running(): boolean {
    return this.worker !== undefined;
  }

  /** A job has started (its inputs are being gathered); `run()` follows. */
  arm(): void {
    this.early = 'armed';
  }

  run(job: Job, onProgress: (done: number, total: number | undefined, message: string) => void): Promise<JobResult> {
    const cancelled = this.early === 'cancelled';
    this.early = 'none';
    this.stop();
    if (cancelled) return Promise.reject(new CancelledError());
    const worker = new Worker(new URL('./job.worker.ts', import.meta.url), { type: 'module', name: 'sparseland-job' });
    this.worker = worker;
    return new Promise<JobResult>((resolve, reject) => {
      this.rejectCurrent = reject;
      const finish = () => {
        if (this.worker === worker) {
          this.worker = undefined;
          this.rejectCurrent = undefined;
        }
        worker.terminate();
      };
      worker.onmessage = (e: MessageEvent<JobReply>) => {
        const m = e.data;
        if (m.kind === 'progress') onProgress(m.done, m.total, m.message);
        else if (m.kind === 'result') {
          finish();
          resolve(m.result);
        } else {
          finish();
          reject(new Error(m.message));
        }
      };
      worker.onerror = (e) => {
        finish();
        reject(new Error(`the job worker failed: ${e.message}`));
      };
      worker.postMessage(job);
    });
  }

  cancel(): void {
    if (this.early === 'armed') this.early = 'cancelled';
    this.stop();
  }

  /** Terminates the running worker, if any, rejecting its job with CancelledError. */
  private stop(): void {
    if (!this.worker) return;
    this.worker.terminate();
    this.worker = undefined;
    this.rejectCurrent?.(new CancelledError());
    this.rejectCurrent = undefined;
  }
}
