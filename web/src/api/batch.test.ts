import { describe, expect, it } from 'vitest';
import { Batcher, type Timers } from './batch.js';

function manualTimers() {
  let now = 0;
  let due: { at: number; fn: () => void }[] = [];
  const timers: Timers = { now: () => now, setTimeout: (fn, ms) => due.push({ at: now + ms, fn }) };
  return {
    timers,
    advance(ms: number) {
      now += ms;
      const ready = due.filter((d) => d.at <= now);
      due = due.filter((d) => d.at > now);
      for (const d of ready) d.fn();
    },
  };
}

describe('Batcher', () => {
  it('flushes the first burst at once, merges keys, and throttles the next ones', () => {
    const clock = manualTimers();
    const flushed: string[][] = [];
    const batcher = new Batcher<string>(500, (items) => flushed.push(items), clock.timers);
    batcher.add('builds', 'builds');
    batcher.add('grid', 'grid');
    batcher.add('builds', 'builds');
    clock.advance(0);
    expect(flushed).toEqual([['builds', 'grid']]);
    batcher.add('builds', 'builds');
    clock.advance(100);
    expect(flushed).toHaveLength(1);
    batcher.add('workers', 'workers');
    clock.advance(400);
    expect(flushed).toEqual([['builds', 'grid'], ['builds', 'workers']]);
    clock.advance(5000);
    batcher.add('grid', 'grid');
    clock.advance(0);
    expect(flushed).toHaveLength(3);
  });
});
