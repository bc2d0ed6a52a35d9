import { SingleBar } from 'cli-progress';

/** A progress bar on stderr; silent when stderr is not a terminal (CI, pipes) or when `quiet`. */
export interface Progress {
  update(done: number, total: number | undefined, label: string): void;
  stop(): void;
}

export function createProgress(title: string, quiet: boolean): Progress {
  if (quiet || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new SingleBar({
    stream: process.stderr,
    format: `${title} [{bar}] {value}/{total} {label}`,
    hideCursor: true,
    clearOnComplete: true,
  });
  let started = false;
  return {
    update(done, total, label) {
      if (!started) {
        bar.start(total ?? done + 1, 0, { label });
        started = true;
      }
      if (total !== undefined) bar.setTotal(total);
      else if (done >= bar.getTotal()) bar.setTotal(done + 1);
      bar.update(done, { label });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
