import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveWorkerOptions, WorkerConfigError } from '../config.js';
import { decideDebugSession, type DebugPolicy } from './policy.js';

const POLICY: DebugPolicy = { allow: true, users: ['ada', 'victor'], maxMs: 3_600_000, approval: false };

describe('decideDebugSession', () => {
  it('refuses everyone without a policy, saying the admin does not allow it', () => {
    expect(decideDebugSession(undefined, 'ada', 'arm-1')).toEqual({ ok: false, reason: "the worker's admin does not allow debug sessions on arm-1" });
  });

  it('refuses everyone when the policy does not allow sessions', () => {
    expect(decideDebugSession({ ...POLICY, allow: false }, 'ada', 'arm-1')).toEqual({ ok: false, reason: "the worker's admin does not allow debug sessions on arm-1" });
  });

  it('refuses a user the policy does not list', () => {
    expect(decideDebugSession(POLICY, 'mallory', 'arm-1')).toEqual({
      ok: false,
      reason: 'user mallory is not among those the admin of arm-1 allows to open debug sessions',
    });
  });

  it('allows a listed user, with the limit and the approval rule', () => {
    expect(decideDebugSession(POLICY, 'victor', 'arm-1')).toEqual({ ok: true, approval: false, maxMs: 3_600_000 });
    expect(decideDebugSession({ ...POLICY, approval: true, maxMs: 60_000 }, 'ada', 'arm-1')).toEqual({ ok: true, approval: true, maxMs: 60_000 });
  });

  it('allows anyone when the policy lists no users', () => {
    expect(decideDebugSession({ allow: true, maxMs: 1000, approval: false }, 'anybody', 'arm-1')).toMatchObject({ ok: true });
  });
});

describe('the debug section of worker.yml', () => {
  function options(yaml: string) {
    const dir = mkdtempSync(join(tmpdir(), 'shepherd-debug-config-'));
    const file = join(dir, 'worker.yml');
    writeFileSync(file, `master: ws://127.0.0.1:8010\nname: arm-1\nsecret_env: S\ndir: ./work\n${yaml}`);
    return resolveWorkerOptions({ config: file }, { S: 'secret' });
  }

  it('is absent unless written (sessions refused)', () => {
    expect(options('').debug).toBeUndefined();
  });

  it('reads allow, users, max and approval', () => {
    expect(options('debug: { allow: true, users: [ada, victor], max: 1h, approval: true }\n').debug).toEqual({
      allow: true,
      users: ['ada', 'victor'],
      maxMs: 3_600_000,
      approval: true,
    });
  });

  it('defaults max to one hour and approval to false', () => {
    expect(options('debug: { allow: true }\n').debug).toEqual({ allow: true, maxMs: 3_600_000, approval: false });
  });

  it('names the file and the field of a bad value', () => {
    expect(() => options('debug: { allow: true, max: forever }\n')).toThrow(WorkerConfigError);
    expect(() => options('debug: { allow: true, max: forever }\n')).toThrow(/worker\.yml: debug\.max: expected a duration like "30m" or "1h"/);
    expect(() => options('debug: { allow: yes-please }\n')).toThrow(/debug\.allow/);
  });
});
