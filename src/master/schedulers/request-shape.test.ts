import { describe, expect, it } from 'vitest';
import { SchedulerEntry } from '../config/schema.js';
import { firstLine, nightlyReason, onChangeReason, requestInputs, schedulerKind, tryReason } from './request-shape.js';

const scheduler = (raw: Record<string, unknown>) =>
  SchedulerEntry.parse({ name: 'sched', builders: ['a', 'b'], properties: { jobs: 4, owner: 'x' }, ...raw });
const source = { name: 'cpython', git: 'https://example.org/cpython.git' };

describe('schedulerKind', () => {
  it('names the trigger', () => {
    expect(schedulerKind(scheduler({ on_change: {} }))).toBe('on_change');
    expect(schedulerKind(scheduler({ force: {} }))).toBe('force');
    expect(schedulerKind(scheduler({ nightly: { cron: '0 3 * * *' } }))).toBe('nightly');
    expect(schedulerKind(scheduler({ try: {} }))).toBe('try');
  });
});

describe('requestInputs', () => {
  it('builds one request per builder with the common properties (on_change)', () => {
    const inputs = requestInputs({
      scheduler: scheduler({ on_change: {}, priority: 5 }),
      builders: ['a', 'b'],
      source,
      branch: 'main',
      revision: 'abc123',
      changeIds: [3, 4],
      reason: '2 changes on main: x',
      submittedBy: 'Ann <ann@example.org>',
    });
    expect(inputs).toEqual(
      ['a', 'b'].map((builder) => ({
        builder,
        properties: {
          jobs: '4',
          owner: 'x',
          revision: 'abc123',
          branch: 'main',
          repository: 'https://example.org/cpython.git',
          source: 'cpython',
          scheduler: 'sched',
        },
        reason: '2 changes on main: x',
        submittedBy: 'Ann <ann@example.org>',
        priority: 5,
        scheduler: 'sched',
        collapseKey: 'cpython\nmain',
        patchId: null,
        changeIds: [3, 4],
      })),
    );
    expect(inputs[0]!.properties).not.toBe(inputs[1]!.properties);
  });

  it('collapses nightly builds per branch too, but never forced or try builds', () => {
    const base = { builders: ['a'], source, branch: 'dev', revision: '', changeIds: [], reason: 'r', submittedBy: null };
    expect(requestInputs({ ...base, scheduler: scheduler({ nightly: { cron: '0 3 * * *' } }) })[0]!.collapseKey).toBe('cpython\ndev');
    expect(requestInputs({ ...base, scheduler: scheduler({ try: {} }), patchId: 7 })[0]).toMatchObject({ collapseKey: null, patchId: 7 });
    expect(requestInputs({ ...base, source: undefined, scheduler: scheduler({ force: {} }) })[0]).toMatchObject({
      collapseKey: null,
      properties: { source: '', repository: '' },
    });
  });

  it('leaves the priority to the builder when the scheduler sets none', () => {
    const [input] = requestInputs({ scheduler: scheduler({ force: {} }), builders: ['a'], source: undefined, branch: '', revision: '', changeIds: [], reason: 'r', submittedBy: 'me' });
    expect(input).not.toHaveProperty('priority');
  });

  it('lets force parameters override every other property', () => {
    const [input] = requestInputs({
      scheduler: scheduler({ force: {} }),
      builders: ['a'],
      source: undefined,
      branch: '',
      revision: '',
      changeIds: [],
      reason: 'r',
      submittedBy: 'me',
      params: { owner: 'y', branch: '3.13' },
    });
    expect(input!.properties).toMatchObject({ owner: 'y', branch: '3.13', jobs: '4', scheduler: 'sched' });
  });
});

describe('reasons', () => {
  it('on_change: the count and the newest subject', () => {
    expect(onChangeReason([{ message: 'old' }, { message: 'mid' }, { message: '\nFix the parser\n\nLong text' }], 'main')).toBe(
      '3 changes on main: Fix the parser',
    );
    expect(onChangeReason([{ message: 'One' }], '3.13')).toBe('1 change on 3.13: One');
    expect(onChangeReason([{ message: '' }], 'main')).toBe('1 change on main');
  });
  it('nightly: the cron expression', () => {
    expect(nightlyReason('0 3 * * *')).toBe('nightly (cron "0 3 * * *")');
  });
  it('try: the comment, else the patch subject, else the author', () => {
    expect(tryReason('Check the fix\nmore', Buffer.from('diff --git a b'), 'Ann')).toBe('try: Check the fix');
    expect(tryReason('', Buffer.from('From 123 Mon\nSubject: [PATCH 1/2] Speed up os.walk\n\ndiff --git a b'), 'Ann')).toBe('try: Speed up os.walk');
    expect(tryReason('  ', Buffer.from('diff --git a b'), 'Ann <a@x>')).toBe('try: patch from Ann <a@x>');
  });
  it('cuts long first lines', () => {
    expect(firstLine('x'.repeat(300))).toHaveLength(100);
  });
});
