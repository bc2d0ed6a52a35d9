import { describe, expect, it } from 'vitest';
import { Executor } from '../src/executor.js';

// Executor.exclusive serialises calls; when one finishes, the next waiting call starts before the finished call's
// caller resumes, so that caller's JavaScript overlaps the next job instead of delaying it.

const options = { impl: 'ts', simd: 'simd128', threads: 1, minParallelWork: 0, shared: false, node: true } as const;

describe('Executor.exclusive', () => {
  it('runs calls one at a time, in order, and starts the next before the previous caller resumes', async () => {
    const exec = await Executor.create(options);
    const events: string[] = [];
    let active = 0;
    const call = (name: string) =>
      exec.exclusive(async () => {
        active++;
        expect(active).toBe(1);
        events.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        events.push(`end ${name}`);
        active--;
        return name;
      });
    const a = call('a').then((v) => events.push(`caller ${v}`));
    const b = call('b').then((v) => events.push(`caller ${v}`));
    const c = call('c').then((v) => events.push(`caller ${v}`));
    events.push('sync');
    await Promise.all([a, b, c]);
    expect(events).toEqual(['sync', 'start a', 'end a', 'start b', 'caller a', 'end b', 'start c', 'caller b', 'end c', 'caller c']);
    await exec.dispose();
  });

  it('a call that fails (or throws before its first await) rejects its caller and lets the next run', async () => {
    const exec = await Executor.create(options);
    const failing = exec.exclusive(async () => {
      throw new Error('boom');
    });
    const throwing = exec.exclusive((() => {
      throw new Error('sync boom');
    }) as () => Promise<never>);
    const after = exec.exclusive(async () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    await expect(throwing).rejects.toThrow('sync boom');
    await expect(after).resolves.toBe('ran');
    await exec.dispose();
  });
});
