import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, systemClock } from './clock.js';

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits out delays longer than Node can schedule in one timer', () => {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    systemClock.setTimeout(() => fired.push(Date.now()), 30 * 86_400_000);
    vi.advanceTimersByTime(2 ** 31);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(30 * 86_400_000);
    expect(fired).toEqual([30 * 86_400_000]);
  });

  it('can be cancelled', () => {
    vi.useFakeTimers({ now: 0 });
    const fired: number[] = [];
    systemClock.setTimeout(() => fired.push(1), 10).cancel();
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});

describe('ManualClock', () => {
  it('fires due timers in order as time advances', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    clock.setTimeout(() => fired.push('never'), 50).cancel();
    clock.advance(15);
    expect(fired).toEqual(['a']);
    clock.advance(100);
    expect(fired).toEqual(['a', 'b']);
    expect(clock.now()).toBe(115);
  });
});
