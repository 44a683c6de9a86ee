import { describe, expect, it } from 'vitest';
import { assignRequests, workerMatchesBuilder, type WorkerSlot } from './match.js';

const linux = { os: 'linux', arch: 'x86_64' };

describe('workerMatchesBuilder', () => {
  it('matches a dimension selector only when every key matches', () => {
    expect(workerMatchesBuilder({ os: 'linux' }, 'w', linux)).toBe(true);
    expect(workerMatchesBuilder({ os: 'linux', arch: 's390x' }, 'w', linux)).toBe(false);
    expect(workerMatchesBuilder({}, 'w', {})).toBe(true);
  });
  it('matches a list of names by name only', () => {
    expect(workerMatchesBuilder(['a', 'b'], 'b', {})).toBe(true);
    expect(workerMatchesBuilder(['a'], 'b', linux)).toBe(false);
  });
});

describe('assignRequests', () => {
  const selectors = new Map<string, any>([
    ['unix', { os: 'linux' }],
    ['mac', { os: 'macos' }],
    ['pinned', ['w2']],
  ]);
  const slot = (name: string, maxBuilds = 1, running = 0, dimensions = linux, busyBuilders: string[] = []): WorkerSlot => ({
    name, dimensions, maxBuilds, running, busyBuilders: new Set(busyBuilders),
  });

  it('serves requests in the given order and respects max_builds', () => {
    const out = assignRequests(
      [{ id: 1, builder: 'unix' }, { id: 2, builder: 'pinned' }, { id: 3, builder: 'unix' }],
      new Map<string, any>([['unix', { os: 'linux' }], ['pinned', ['w1']]]),
      [slot('w1', 2)],
    );
    expect(out).toEqual([{ requestId: 1, worker: 'w1' }, { requestId: 2, worker: 'w1' }]);
  });

  it('runs one build of a builder per worker at a time, as Buildbot does', () => {
    const requests = [{ id: 1, builder: 'unix' }, { id: 2, builder: 'unix' }, { id: 3, builder: 'unix' }];
    expect(assignRequests(requests, selectors, [slot('w1', 4)])).toEqual([{ requestId: 1, worker: 'w1' }]);
    expect(assignRequests(requests, selectors, [slot('w1', 4, 1, linux, ['unix']), slot('w2', 2)])).toEqual([{ requestId: 1, worker: 'w2' }]);
  });

  it('does not let an unservable request block the ones behind it', () => {
    const out = assignRequests([{ id: 1, builder: 'mac' }, { id: 2, builder: 'unix' }], selectors, [slot('w1')]);
    expect(out).toEqual([{ requestId: 2, worker: 'w1' }]);
  });

  it('spreads load to the least busy worker, then by name', () => {
    const sel = new Map<string, any>([['a', { os: 'linux' }], ['b', { os: 'linux' }], ['c', { os: 'linux' }]]);
    const out = assignRequests(
      [{ id: 1, builder: 'a' }, { id: 2, builder: 'b' }, { id: 3, builder: 'c' }],
      sel,
      [slot('w2', 2), slot('w1', 2, 1)],
    );
    expect(out).toEqual([
      { requestId: 1, worker: 'w2' },
      { requestId: 2, worker: 'w1' },
      { requestId: 3, worker: 'w2' },
    ]);
  });

  it('honours name lists and skips unknown builders and full workers', () => {
    const out = assignRequests(
      [{ id: 1, builder: 'pinned' }, { id: 2, builder: 'gone' }, { id: 3, builder: 'unix' }],
      selectors,
      [slot('w1', 1, 1), slot('w2')],
    );
    expect(out).toEqual([{ requestId: 1, worker: 'w2' }]);
  });
});
