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

  it('with busyShare, rests after a slow run in proportion to its cost; fast runs never rest; stop() ends a rest', async () => {
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const spans: { start: number; end: number }[] = [];
    let slowMs = 60;
    const runs = new SerialRuns(
      async () => {
        const start = performance.now();
        await sleep(slowMs);
        spans.push({ start, end: performance.now() });
      },
      () => {},
      { busyShare: 0.5 },
    );
    runs.trigger();
    await Promise.resolve();
    runs.trigger(); // queued behind the slow run
    await runs.settled();
    expect(spans).toHaveLength(2);
    // The first took ~60 ms: at half the loop, the second waited about as long again (timers may fire a millisecond early).
    expect(spans[1]!.start - spans[0]!.end).toBeGreaterThanOrEqual(spans[0]!.end - spans[0]!.start - 2);

    // A run of a small farm (well under 25 ms) never rests, however small the share: here a rest would be ~99 times the run.
    const fast = new SerialRuns(() => Promise.resolve(), () => {}, { busyShare: 0.01 });
    const before = performance.now();
    for (let i = 0; i < 3; i++) {
      fast.trigger();
      await fast.settled();
    }
    expect(performance.now() - before).toBeLessThan(400);
    await fast.stop();

    slowMs = 300;
    runs.trigger();
    // The slow run ends after ~300 ms and then rests as long: stop() in the rest does not wait it out.
    while (spans.length < 3) await sleep(5);
    const stopping = performance.now();
    await runs.stop();
    expect(performance.now() - stopping).toBeLessThan(150);
  });
});
