import { describe, expect, it } from 'vitest';
import { SerialRuns } from './serial-runs.js';

describe('SerialRuns', () => {
  it('runs one at a time, coalesces triggers while one waits, and reports errors without stopping', async () => {
    const log: string[] = [];
    let release: () => void = () => {};
    let calls = 0;
    const errors: unknown[] = [];
    const runs = new SerialRuns(async () => {
      const n = ++calls;
      log.push(`start ${n}`);
      if (n === 1) await new Promise<void>((resolve) => (release = resolve));
      if (n === 2) throw new Error('boom');
      log.push(`end ${n}`);
    }, (error) => errors.push(error));
    runs.trigger();
    await Promise.resolve();
    runs.trigger();
    runs.trigger();
    runs.trigger();
    release();
    await runs.settled();
    expect(log).toEqual(['start 1', 'end 1', 'start 2']);
    expect((errors[0] as Error).message).toBe('boom');
    runs.trigger();
    await runs.settled();
    expect(calls).toBe(3);
    await runs.stop();
    expect(runs.stopped).toBe(true);
    runs.trigger();
    await runs.settled();
    expect(calls).toBe(3);
  });
});
