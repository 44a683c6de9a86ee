/**
 * The config sections for changes, schedulers, checkouts and notifications:
 * the issue's example loads as written, and every cross-reference or
 * impossible combination is refused naming its path.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ShepherdError } from '../errors.js';
import { parseConfig, readSecrets } from './load.js';

const ISSUE_CONFIG = readFileSync(new URL('../../../test/fixtures/changes-issue-config.yml', import.meta.url), 'utf8');

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'shepherd.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ShepherdError);
    return (error as ShepherdError).details!.problems as string[];
  }
  throw new Error('expected the config to be refused');
}

const base = () => parse(ISSUE_CONFIG) as any;

describe('changes and schedulers config', () => {
  it("loads the issue's example with its defaults", () => {
    const config = parseConfig(parse(ISSUE_CONFIG), 'shepherd.yml');
    expect(config.changes[0]).toMatchObject({ name: 'cpython', branches: ['main', '3.*'], poll: 30_000, on_first_poll: 'record' });
    expect(config.schedulers.map((s) => s.name)).toEqual(['on-commit', 'force', 'nightly', 'try']);
    expect(config.schedulers[0]!.on_change).toMatchObject({ quiet: 30_000, ignore: ['Doc/**', '*.md'] });
    expect(config.schedulers[3]!.try!.max_patch).toBe(10 * 1024 * 1024);
    expect(config.builders[0]).toMatchObject({ collapse: true });
    expect(config.builders[0]!.steps[0]!.checkout).toEqual({ source: 'cpython', mode: 'incremental', shallow: false });
    expect(config.notify.mail).toMatchObject({ smtp: 'smtp://127.0.0.1:2525' });
  });

  it('reads a relative repository path from the config file, and leaves URLs alone', () => {
    const raw = base();
    raw.changes.push({ name: 'local', git: 'repos/proj.git' }, { name: 'scp', git: 'git@example.org:proj.git' });
    const config = parseConfig(raw, '/etc/shepherd/shepherd.yml');
    expect(config.changes.map((c) => c.git)).toEqual(['file:///srv/git/cpython.git', '/etc/shepherd/repos/proj.git', 'git@example.org:proj.git']);
  });

  it('refuses references to builders and change sources that do not exist', () => {
    const raw = base();
    raw.schedulers[0].builders = ['nope'];
    raw.schedulers[0].on_change.changes = 'elsewhere';
    raw.builders[0].steps[0].checkout.source = 'elsewhere';
    expect(problems(raw).sort()).toEqual([
      'shepherd.yml: builders[0].steps[0].checkout.source: no change source named "elsewhere" in changes',
      'shepherd.yml: schedulers[0].builders[0]: no builder named "nope" in builders',
      'shepherd.yml: schedulers[0].on_change.changes: no change source named "elsewhere" in changes',
    ]);
  });

  it('wants exactly one trigger per scheduler and one of run or checkout per step', () => {
    const raw = base();
    raw.schedulers[1].nightly = { cron: '0 3 * * *' };
    delete raw.schedulers[2].nightly;
    raw.builders[0].steps[1].checkout = { source: 'cpython' };
    const found = problems(raw);
    expect(found).toContain('shepherd.yml: schedulers[1]: expected only one of force, nightly');
    expect(found).toContain('shepherd.yml: schedulers[2]: expected one of on_change, force, nightly or try');
    expect(found).toContain('shepherd.yml: builders[0].steps[1]: expected exactly one of run or checkout');
  });

  it('checks cron expressions, time zones and force parameters at load time', () => {
    const raw = base();
    raw.schedulers[2].nightly.cron = '0 25 * * *';
    raw.schedulers[1].force.params.config = { type: 'choice', choices: ['debug'], default: 'release' };
    raw.schedulers[1].force.params.tests = { type: 'string', pattern: '(' };
    const found = problems(raw);
    expect(found.find((p) => p.includes('schedulers[2].nightly.cron'))).toMatch(/invalid cron "0 25 \* \* \*"/);
    expect(found).toContain('shepherd.yml: schedulers[1].force.params.config.default: expected one of debug');
    expect(found.find((p) => p.includes('schedulers[1].force.params.tests.pattern'))).toMatch(/not a regular expression/);
  });

  it('wants the mail transport for mail notifiers, and the secrets of hooks and notifiers', () => {
    const raw = base();
    delete raw.notify.mail;
    raw.notify.notifiers = [{ name: 'blame', mail: { to: ['list@example.org'] } }];
    expect(problems(raw)).toEqual([
      'shepherd.yml: notify.notifiers[0].mail: mail notifiers need the transport: set notify.mail.smtp and notify.mail.from',
    ]);

    const withHooks = base();
    withHooks.hooks = { github: { secret_env: 'GH_SECRET' } };
    withHooks.notify.notifiers = [{ name: 'statuses', github_status: { repository: 'python/cpython', token_env: 'GH_TOKEN' } }];
    const config = parseConfig(withHooks, 'shepherd.yml');
    expect(() => readSecrets(config, { GH_SECRET: 's' })).toThrow(/notify.notifiers\[0\].github_status.token_env: environment variable GH_TOKEN is not set/);
    expect(readSecrets(config, { GH_SECRET: 's', GH_TOKEN: 't' }).env).toEqual({ GH_SECRET: 's', GH_TOKEN: 't' });
  });
});
