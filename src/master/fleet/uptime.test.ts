import { describe, expect, it } from 'vitest';
import type { WorkerSession } from '../store/store.js';
import { uptimeRatio } from './uptime.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = 1_700_000_000_000;

function session(connectedAt: number, disconnectedAt: number | null): WorkerSession {
  return { worker: 'w', connectedAt, disconnectedAt };
}

describe('uptimeRatio', () => {
  it('is 0 without sessions and 1 for one session covering the window', () => {
    expect(uptimeRatio([], T0, T0 + DAY)).toBe(0);
    expect(uptimeRatio([session(T0 - DAY, T0 + 2 * DAY)], T0, T0 + DAY)).toBe(1);
  });

  it('counts an open session up to the end of the window', () => {
    expect(uptimeRatio([session(T0 + 6 * HOUR, null)], T0, T0 + DAY)).toBe(0.75);
  });

  it('clips sessions to the window and adds them up', () => {
    const sessions = [session(T0 - 2 * HOUR, T0 + 6 * HOUR), session(T0 + 12 * HOUR, T0 + 18 * HOUR), session(T0 + 23 * HOUR, T0 + 30 * HOUR)];
    expect(uptimeRatio(sessions, T0, T0 + DAY)).toBeCloseTo(13 / 24, 12);
  });

  it('ignores sessions outside the window, empty or reversed ones', () => {
    const sessions = [session(T0 - 3 * HOUR, T0 - HOUR), session(T0 + 2 * DAY, null), session(T0 + HOUR, T0 + HOUR), session(T0 + 5 * HOUR, T0 + 4 * HOUR)];
    expect(uptimeRatio(sessions, T0, T0 + DAY)).toBe(0);
  });

  it('counts overlapping sessions once, in any order', () => {
    const sessions = [session(T0 + 6 * HOUR, T0 + 18 * HOUR), session(T0, T0 + 12 * HOUR), session(T0 + 8 * HOUR, T0 + 10 * HOUR)];
    expect(uptimeRatio(sessions, T0, T0 + DAY)).toBe(0.75);
    expect(uptimeRatio([session(T0, null), session(T0 + HOUR, null)], T0, T0 + DAY)).toBe(1);
  });

  it('has no uptime over an empty window', () => {
    expect(uptimeRatio([session(T0 - DAY, null)], T0, T0)).toBe(0);
    expect(uptimeRatio([session(T0 - DAY, null)], T0 + 1, T0)).toBe(0);
  });
});
