import { describe, expect, it } from 'vitest';
import { CONNECT_BACKOFF, nextDelay, REFUSED_BACKOFF } from './backoff.js';

describe('nextDelay', () => {
  it('doubles the ceiling from 0.5 s up to the 30 s cap', () => {
    const top = () => 0.999999;
    const ceilings = [0, 1, 2, 3, 4, 5, 6, 7, 20].map((a) => Math.round(nextDelay(a, top) / 100) * 100);
    expect(ceilings).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('is fully jittered: anywhere between 0 and the ceiling', () => {
    expect(nextDelay(3, () => 0)).toBe(0);
    expect(nextDelay(3, () => 0.5)).toBe(2000);
    expect(nextDelay(0, () => 0.25)).toBe(125);
  });

  it('survives absurd attempt numbers and a misbehaving random source', () => {
    expect(nextDelay(10_000, () => 0.5)).toBe(15_000);
    expect(nextDelay(-1, () => 1)).toBe(500);
    expect(nextDelay(2, () => 7)).toBe(2000);
  });

  it('uses the slow curve after a refusal', () => {
    expect(nextDelay(0, () => 0.999999, REFUSED_BACKOFF)).toBe(29_999);
    expect(nextDelay(99, () => 0.5, REFUSED_BACKOFF)).toBe(300_000);
    expect(CONNECT_BACKOFF.maxMs).toBeLessThan(REFUSED_BACKOFF.maxMs);
  });
});
