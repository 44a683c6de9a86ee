/**
 * `shepherd join`: what the volunteer reads at each stage, the dimensions it
 * proposes, waiting for the decision, and usage errors that name the flag.
 * The whole flow against a real master is test/join-e2e.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApplicationJson, ApplicationStatusJson } from '../../master/api/schemas.js';
import { captureCli } from '../capture-cli.js';
import { exitStatusForApplication, formatJoinReply, formatJoinStatus, joinDimensions, statusCommand, waitForDecision } from './join.js';

const application: ApplicationJson = {
  id: 7,
  name: 'lx-ada',
  dimensions: { os: 'linux', arch: 'x86_64', libc: 'musl' },
  max_builds: 1,
  contact: 'Ada <ada@example.org>',
  notes: null,
  state: 'pending',
  submitted_at: 0,
  decided_by: null,
  decided_at: null,
  reason: null,
  worker: null,
  platforms: ['linux-x86_64'],
  builders: ['unix-tests', 'musl'],
};

const status = (over: Partial<ApplicationStatusJson>): ApplicationStatusJson => ({
  id: 7,
  state: 'pending',
  reason: null,
  worker: null,
  secret: null,
  secret_collected_at: null,
  command: null,
  config: null,
  ...over,
});

describe('joinDimensions', () => {
  it('puts --dimension values over the detected os and arch', () => {
    expect(joinDimensions({ os: 'linux', arch: 'x86_64' }, { arch: 'i686', libc: 'musl' })).toEqual({ os: 'linux', arch: 'i686', libc: 'musl' });
    expect(joinDimensions(null, { os: 'plan9' })).toEqual({ os: 'plan9' });
  });

  it('refuses to propose a machine with no dimension at all', () => {
    expect(() => joinDimensions(null, {})).toThrow(/--no-detect: give the machine's dimensions with --dimension KEY=VALUE/);
  });
});

describe('formatJoinReply', () => {
  it('prints the id, the token once, what it would cover and the exact status command', () => {
    expect(formatJoinReply({ application, token: 'tok-123', status_url: 'http://m/join?application=7' }, 'http://m:8010')).toBe(
      'application 7: worker "lx-ada" (os=linux arch=x86_64 libc=musl) offered; waiting for the operators to decide\n' +
        'it could run builders: unix-tests, musl\n' +
        'it would count for platforms: linux-x86_64\n' +
        'token: tok-123  (keep it: shown only now)\n' +
        "see the outcome (and, once approved, the worker's secret) with:\n" +
        '  shepherd join --master http://m:8010 --status 7 --token tok-123\n',
    );
  });

  it('says when no builder would select the machine', () => {
    const text = formatJoinReply({ application: { ...application, builders: [], platforms: [] }, token: 't', status_url: '' }, 'http://m');
    expect(text).toContain('no builder selects these dimensions yet');
  });

  it('quotes a master address the shell would split', () => {
    expect(statusCommand('http://m/a b', 1, 't')).toBe("shepherd join --master 'http://m/a b' --status 1 --token t");
  });
});

describe('formatJoinStatus', () => {
  it('pending and declined (with the reason, exit 1)', () => {
    expect(formatJoinStatus(status({}))).toBe('application 7: pending; the operators have not decided yet\n');
    const declined = status({ state: 'declined', reason: 'we have enough x86' });
    expect(formatJoinStatus(declined)).toBe('application 7: declined: we have enough x86\n');
    expect([exitStatusForApplication(declined), exitStatusForApplication(status({}))]).toEqual([1, 0]);
  });

  it('approved, first time: the secret, the command and the config (or where it was written)', () => {
    const first = status({
      state: 'approved',
      worker: 'lx-ada',
      secret: 's3cret',
      secret_collected_at: 1,
      command: 'curl -fsSLO http://m/worker/shepherd-worker.mjs\nSHEPHERD_WORKER_SECRET=s3cret node shepherd-worker.mjs --config worker.yml',
      config: 'master: ws://m\nname: lx-ada\n',
    });
    expect(formatJoinStatus(first)).toBe(
      'application 7: approved: worker "lx-ada"\n' +
        'secret: s3cret  (keep it: shown only now)\n' +
        'start the agent with:\n' +
        '  curl -fsSLO http://m/worker/shepherd-worker.mjs\n' +
        '  SHEPHERD_WORKER_SECRET=s3cret node shepherd-worker.mjs --config worker.yml\n' +
        'save this as worker.yml:\n' +
        '  master: ws://m\n' +
        '  name: lx-ada\n',
    );
    const written = formatJoinStatus(first, { path: '/home/ada/shepherd/worker.yml' });
    expect(written).toContain('node shepherd-worker.mjs --config /home/ada/shepherd/worker.yml\n');
    expect(written).toContain('config written to /home/ada/shepherd/worker.yml\n');
    expect(written).not.toContain('save this as');
  });

  it('approved later: when the secret was collected, and how to get another', () => {
    const collectedAt = new Date(2024, 4, 1, 14, 3, 9).getTime();
    expect(formatJoinStatus(status({ state: 'approved', worker: 'lx-ada', secret_collected_at: collectedAt }))).toBe(
      'application 7: approved: worker "lx-ada"\n' +
        'its secret was already collected at 2024-05-01 14:03:09 and is never shown again; ' +
        'to get a new one, an operator must retire the worker and approve a new application\n',
    );
  });
});

describe('waitForDecision', () => {
  it('asks every interval until the state is no longer pending', async () => {
    const answers = [status({}), status({}), status({ state: 'approved', worker: 'lx-ada', secret: 's' })];
    const slept: number[] = [];
    const decided = await waitForDecision(async () => answers.shift()!, { intervalMs: 5000, sleep: async (ms) => void slept.push(ms) });
    expect(decided.state).toBe('approved');
    expect(slept).toEqual([5000, 5000]);
  });
});

describe('shepherd join usage', () => {
  const { shepherd, err } = captureCli();
  const master = ['--master', 'http://127.0.0.1:1'];

  it('names the flag of a malformed dimension (exit 2)', async () => {
    expect(await shepherd('join', ...master, '--name', 'x', '--contact', 'a@b.c', '--dimension', 'linux')).toBe(2);
    expect(err()).toMatch(/^shepherd: option '--dimension <key=value>' argument 'linux' is invalid\. expected KEY=VALUE/);
  });

  it('needs --master, and --name and --contact to offer', async () => {
    const before = process.env.SHEPHERD_MASTER;
    delete process.env.SHEPHERD_MASTER;
    try {
      expect(await shepherd('join', '--name', 'x', '--contact', 'a@b.c')).toBe(2);
      expect(err()).toMatch(/--master <url>' not specified/);
    } finally {
      if (before !== undefined) process.env.SHEPHERD_MASTER = before;
    }
    expect(await shepherd('join', ...master, '--contact', 'a@b.c')).toBe(2);
    expect(err()).toMatch(/give --name NAME/);
  });

  it('keeps offering and following apart', async () => {
    expect(await shepherd('join', ...master, '--status', '3')).toBe(2);
    expect(err()).toMatch(/--status needs --token TOKEN/);
    expect(await shepherd('join', ...master, '--status', '3', '--token', 't', '--name', 'x')).toBe(2);
    expect(err()).toMatch(/--name cannot be used with --status/);
    expect(await shepherd('join', ...master, '--name', 'x', '--contact', 'a@b.c', '--write-config', 'w.yml')).toBe(2);
    expect(err()).toMatch(/--write-config needs --status ID --token TOKEN/);
  });

  it('refuses an existing --write-config file before asking the master (which would hand out the secret)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'shepherd-join-')), 'worker.yml');
    writeFileSync(file, 'mine\n');
    // The master's address is unreachable: exit 1 from the file check, not from the network.
    expect(await shepherd('join', ...master, '--status', '3', '--token', 't', '--write-config', file)).toBe(1);
    expect(err()).toMatch(/--write-config: .*worker\.yml already exists; choose another file/);
    expect(err()).not.toMatch(/cannot reach/);
  });
});
