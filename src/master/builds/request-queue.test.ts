import { describe, expect, it } from 'vitest';
import type { BuildRequest } from '../domain.js';
import { RequestQueue } from './request-queue.js';

const request = (id: number, priority = 0, submittedAt = 1000): BuildRequest => ({
  id, builder: 'b', priority, properties: {}, reason: '', submittedBy: null, submittedAt,
  state: 'queued', buildId: null, result: null,
  scheduler: null, collapseKey: null, patchId: null, changeIds: [],
});

describe('RequestQueue', () => {
  it('keeps serving order: priority, then submission time, then id', () => {
    const queue = new RequestQueue();
    for (const r of [request(3, 0, 10), request(1, 0, 20), request(2, 5, 30), request(4, 0, 10), request(5, 5, 5)]) queue.add(r);
    expect(queue.values().map((r) => r.id)).toEqual([5, 2, 3, 4, 1]);
  });

  it('removes by id and replaces a request added again (a RETRY keeps its place)', () => {
    const queue = new RequestQueue();
    queue.add(request(1, 0, 10));
    queue.add(request(2, 0, 20));
    expect(queue.remove(1)).toBe(true);
    expect(queue.remove(1)).toBe(false);
    queue.add(request(1, 0, 10));
    queue.add(request(1, 0, 10));
    expect(queue.values().map((r) => r.id)).toEqual([1, 2]);
    expect(queue.size).toBe(2);
  });
});
