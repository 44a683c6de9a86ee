/**
 * `shepherd applications`: the operators' table and what a decision prints.
 * Listing, approving and declining against a real master: test/join-e2e.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ApplicationJson } from '../../master/api/schemas.js';
import { captureCli } from '../capture-cli.js';
import { formatApplicationsTable, formatDecision } from './applications.js';

const now = 10 * 86_400_000;
const pending: ApplicationJson = {
  id: 12,
  name: 'lx-ada',
  dimensions: { os: 'linux', arch: 'x86_64' },
  max_builds: 1,
  contact: 'Ada <ada@example.org>',
  notes: 'a spare box',
  state: 'pending',
  submitted_at: now - 3 * 3_600_000,
  decided_by: null,
  decided_at: null,
  reason: null,
  worker: null,
  platforms: ['linux-x86_64'],
  builders: ['unix-tests', 'lib'],
};
const renamed: ApplicationJson = { ...pending, id: 11, name: 'box', state: 'approved', worker: 'lx-box', submitted_at: now - 2 * 86_400_000 };
const nowhere: ApplicationJson = { ...pending, id: 10, name: 'p9', dimensions: { os: 'plan9' }, state: 'declined', reason: 'no plan9 builders', platforms: [], builders: [] };

describe('formatApplicationsTable', () => {
  it('shows each application with what it would cover, and the name it was approved under', () => {
    expect(formatApplicationsTable([pending, renamed, nowhere], now).split('\n')).toEqual([
      'ID  NAME          DIMENSIONS            CONTACT                SUBMITTED  STATE     PLATFORMS     BUILDERS',
      '12  lx-ada        os=linux arch=x86_64  Ada <ada@example.org>  3h ago     pending   linux-x86_64  unix-tests, lib',
      '11  box → lx-box  os=linux arch=x86_64  Ada <ada@example.org>  2d ago     approved  linux-x86_64  unix-tests, lib',
      '10  p9            os=plan9              Ada <ada@example.org>  3h ago     declined  -             -',
      '',
    ]);
  });

  it('says when there is none', () => {
    expect(formatApplicationsTable([], now, 'pending')).toBe('no pending applications\n');
    expect(formatApplicationsTable([], now)).toBe('no applications\n');
  });
});

describe('formatDecision', () => {
  it('approved: the worker created and how its volunteer collects the secret; declined: the reason', () => {
    expect(formatDecision({ ...pending, state: 'approved', worker: 'lx-ada' })).toBe(
      'application 12 approved: worker "lx-ada" created\nits volunteer collects the secret with: shepherd join --status 12 --token TOKEN\n',
    );
    expect(formatDecision(nowhere)).toBe('application 10 declined: no plan9 builders\n');
  });
});

describe('shepherd applications usage', () => {
  const { shepherd, err } = captureCli();

  it('decline needs a reason; the state must be one the API knows (exit 2)', async () => {
    expect(await shepherd('applications', 'decline', '3', '--master', 'http://127.0.0.1:1')).toBe(2);
    expect(err()).toMatch(/required option '--reason <text>' not specified/);
    expect(await shepherd('applications', '--state', 'maybe', '--master', 'http://127.0.0.1:1')).toBe(2);
    expect(err()).toMatch(/--state <state>' argument 'maybe' is invalid/);
  });
});
