import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';
import { createPrng } from './prng.js';

describe('EventQueue', () => {
  it('gives events back by time, equal times in the order they were scheduled', () => {
    const queue = new EventQueue<string>();
    for (const [at, e] of [[5, 'e'], [1, 'a'], [3, 'c1'], [3, 'c2'], [2, 'b'], [3, 'c3']] as const) queue.push(at, e);
    const out: string[] = [];
    for (let next = queue.pop(); next; next = queue.pop()) out.push(next.event);
    expect(out).toEqual(['a', 'b', 'c1', 'c2', 'c3', 'e']);
    expect(queue.size).toBe(0);
  });

  it('stays ordered over many random pushes and pops', () => {
    const prng = createPrng(7);
    const queue = new EventQueue<number>();
    for (let i = 0; i < 1000; i++) queue.push(prng.int(0, 100), i);
    let last = -1;
    for (let next = queue.pop(); next; next = queue.pop()) {
      expect(next.at).toBeGreaterThanOrEqual(last);
      last = next.at;
    }
  });
});

describe('createPrng', () => {
  it('repeats itself for a seed and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, createPrng(seed).next);
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(1).every((x) => x >= 0 && x < 1)).toBe(true);
  });
});
