import { describe, expect, it } from 'vitest';
import { exitStatusForResult } from './exit-status.js';
import { RequestTracker } from './request-tracker.js';

const event = (name: string, data: object) => ({ event: name, data: JSON.stringify(data) });

describe('RequestTracker', () => {
  it('follows a request through a RETRY to its final build', () => {
    const tracker = new RequestTracker(5);
    const started = { request_id: 5, build_id: 10, builder: 'unix-tests', number: 3, worker: 'linux-1' };
    expect(tracker.onEvent(event('build:started', { ...started, request_id: 6, build_id: 11 }))).toEqual({ type: 'none' });
    expect(tracker.onEvent(event('build:started', started))).toEqual({
      type: 'progress',
      line: 'build unix-tests #3 started on linux-1',
    });
    expect(tracker.onEvent(event('step:finished', { build_id: 10, name: 'compile', result: 'SUCCESS', duration_ms: 2100 }))).toEqual({
      type: 'progress',
      line: '  compile: SUCCESS (2.1s)',
    });
    expect(tracker.onEvent(event('step:finished', { build_id: 11, name: 'other', result: 'SUCCESS' }))).toEqual({ type: 'none' });
    expect(tracker.onEvent(event('build:finished', { ...started, result: 'RETRY', requeued: true }))).toEqual({
      type: 'progress',
      line: 'build unix-tests #3 ended RETRY; request 5 is queued again',
    });
    expect(tracker.onEvent(event('build:started', { ...started, build_id: 12, number: 4, worker: 'linux-2' }))).toMatchObject({
      line: 'build unix-tests #4 started on linux-2',
    });
    expect(tracker.onEvent(event('build:finished', { ...started, build_id: 12, number: 4, result: 'SUCCESS', requeued: false }))).toEqual({
      type: 'finished',
      buildId: 12,
      line: 'build unix-tests #4 finished: SUCCESS',
    });
  });

  it('announces a build once, whether from an event or from catching up', () => {
    const tracker = new RequestTracker(5);
    expect(tracker.started({ id: 10, builder: 'b', number: 1, worker: 'w' }).type).toBe('progress');
    expect(tracker.onEvent(event('build:started', { request_id: 5, build_id: 10, builder: 'b', number: 1, worker: 'w' }))).toEqual({
      type: 'none',
    });
  });

  it('ends on a cancelled or already complete request', () => {
    const tracker = new RequestTracker(5);
    expect(tracker.onEvent(event('request:cancelled', { request_id: 5 })).type).toBe('cancelled');
    expect(tracker.caughtUp({ state: 'complete', build_id: 9, result: 'FAILURE' })).toEqual({ type: 'finished', buildId: 9, line: '' });
    expect(tracker.caughtUp({ state: 'complete', build_id: null, result: 'CANCELLED' }).type).toBe('cancelled');
    expect(tracker.caughtUp({ state: 'queued', build_id: null, result: null })).toEqual({ type: 'none' });
  });

  it('ignores malformed data', () => {
    expect(new RequestTracker(1).onEvent({ event: 'build:started', data: '{' })).toEqual({ type: 'none' });
  });
});

describe('exitStatusForResult', () => {
  it('is 0 only for SUCCESS', () => {
    expect(exitStatusForResult('SUCCESS')).toBe(0);
    for (const result of ['WARNINGS', 'FAILURE', 'EXCEPTION', 'RETRY', 'CANCELLED', null] as const) {
      expect(exitStatusForResult(result)).toBe(1);
    }
  });
});
