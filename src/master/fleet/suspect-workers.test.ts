import { describe, expect, it } from 'vitest';
import type { Result } from '../domain.js';
import { suspectWorkers, type WorkerBuild } from './suspect-workers.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const settings = { window: 7 * DAY, threshold: 3 };

const b = (builder: string, worker: string, revision: string, result: Result | null, finishedAt: number): WorkerBuild => ({ builder, worker, revision, result, finishedAt });

/** The broken worker `bad` fails r1..r3 of three builders; `good` passes each of them. */
const broken: WorkerBuild[] = [
  b('lib', 'bad', 'r1', 'FAILURE', 10 * DAY),
  b('lib', 'good', 'r1', 'SUCCESS', 10 * DAY + HOUR),
  b('app', 'bad', 'r2', 'EXCEPTION', 11 * DAY),
  b('app', 'good', 'r2', 'WARNINGS', 11 * DAY + HOUR),
  b('doc', 'good', 'r3', 'SUCCESS', 11 * DAY),
  b('doc', 'bad', 'r3', 'FAILURE', 12 * DAY),
];

describe('suspectWorkers', () => {
  it('flags a worker failing where a peer passed the same revision, threshold times, with the evidence', () => {
    expect(suspectWorkers(broken, 12 * DAY, settings)).toEqual([
      {
        worker: 'bad',
        count: 3,
        since: 10 * DAY,
        evidence: [
          { builder: 'lib', revision: 'r1', failedAt: 10 * DAY, passedOn: 'good' },
          { builder: 'app', revision: 'r2', failedAt: 11 * DAY, passedOn: 'good' },
          { builder: 'doc', revision: 'r3', failedAt: 12 * DAY, passedOn: 'good' },
        ],
      },
    ]);
  });

  it('needs threshold cases: below it, nobody is suspect', () => {
    expect(suspectWorkers(broken, 12 * DAY, { ...settings, threshold: 4 })).toEqual([]);
  });

  it('counts only failures within the window, and ignores builds finishing after now', () => {
    expect(suspectWorkers(broken, 17 * DAY + 1, settings)).toEqual([]);
    expect(suspectWorkers(broken, 11 * DAY + HOUR, settings)).toEqual([]);
  });

  it('says nothing when every worker fails the revision (the code is broken) or nobody else built it', () => {
    const red = [b('lib', 'w1', 'r1', 'FAILURE', DAY), b('lib', 'w2', 'r1', 'FAILURE', DAY), b('lib', 'w3', 'r1', 'FAILURE', DAY), b('app', 'w1', 'r2', 'FAILURE', DAY)];
    expect(suspectWorkers(red, 2 * DAY, { ...settings, threshold: 1 })).toEqual([]);
  });

  it('counts one revision once however often it failed there, and ignores RETRY and CANCELLED', () => {
    const builds = [
      b('lib', 'bad', 'r1', 'FAILURE', DAY),
      b('lib', 'bad', 'r1', 'FAILURE', DAY + HOUR),
      b('lib', 'good', 'r1', 'SUCCESS', DAY),
      b('lib', 'bad', 'r2', 'RETRY', DAY),
      b('lib', 'good', 'r2', 'SUCCESS', DAY),
      b('lib', 'bad', 'r3', 'CANCELLED', DAY),
      b('lib', 'good', 'r3', 'SUCCESS', DAY),
    ];
    expect(suspectWorkers(builds, 2 * DAY, { ...settings, threshold: 1 })).toEqual([
      { worker: 'bad', count: 1, since: DAY + HOUR, evidence: [{ builder: 'lib', revision: 'r1', failedAt: DAY + HOUR, passedOn: 'good' }] },
    ]);
  });

  it('does not take a pass on another builder as evidence', () => {
    const builds = [b('lib', 'bad', 'r1', 'FAILURE', DAY), b('app', 'good', 'r1', 'SUCCESS', DAY)];
    expect(suspectWorkers(builds, 2 * DAY, { ...settings, threshold: 1 })).toEqual([]);
  });
});
