import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveWorkerOptions, WorkerConfigError } from './config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-worker-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function configFile(text: string): string {
  mkdirSync(join(dir, 'etc'), { recursive: true });
  const file = join(dir, 'etc', 'worker.yml');
  writeFileSync(file, text);
  return file;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WorkerConfigError);
    expect((error as WorkerConfigError).code).toBe('SHEPHERD_E_CONFIG');
    return (error as WorkerConfigError).problems;
  }
  throw new Error('expected a WorkerConfigError');
}

const env = { SHEPHERD_SECRET: 's3cret' };

describe('resolveWorkerOptions', () => {
  it('reads everything from flags', () => {
    const options = resolveWorkerOptions({ master: 'ws://127.0.0.1:8010', name: 'w1', secretEnv: 'SHEPHERD_SECRET', dir: 'work', admin: 'Ada <ada@example.org>' }, env);
    expect(options).toEqual({ master: 'ws://127.0.0.1:8010', name: 'w1', secret: 's3cret', dir: resolve('work'), admin: 'Ada <ada@example.org>' });
  });

  it('reads the file, resolves its dir relative to the file, and lets flags override', () => {
    const file = configFile(
      ['master: ws://farm.example.org:8010', 'name: from-file', 'secret_env: SHEPHERD_SECRET', 'dir: ../work', 'dimensions:', '  gpu: none', '  cores: 8'].join('\n'),
    );
    expect(resolveWorkerOptions({ config: file }, env)).toEqual({
      master: 'ws://farm.example.org:8010',
      name: 'from-file',
      secret: 's3cret',
      dir: join(dir, 'work'),
      dimensions: { gpu: 'none', cores: '8' },
    });
    const overridden = resolveWorkerOptions({ config: file, name: 'from-flag', dir: 'here' }, env);
    expect(overridden).toMatchObject({ name: 'from-flag', dir: resolve('here') });
  });

  it('reads maintenance windows, naming a bad cron or duration', () => {
    const base = 'master: ws://farm:8010\nname: w1\nsecret_env: SHEPHERD_SECRET\ndir: /w\n';
    const file = configFile(`${base}maintenance:\n  - { cron: "0 2 * * 0", duration: 3h }\n  - { cron: "30 1 1 * *", duration: 1.5d }\n`);
    expect(resolveWorkerOptions({ config: file }, env).maintenance).toEqual([
      { cron: '0 2 * * 0', durationMs: 3 * 3_600_000 },
      { cron: '30 1 1 * *', durationMs: 36 * 3_600_000 },
    ]);
    const bad = configFile(`${base}maintenance:\n  - { cron: "sunday", duration: forever }\n`);
    expect(problems(() => resolveWorkerOptions({ config: bad }, env))).toEqual([
      `${bad}: maintenance[0].cron: expected a five-field cron expression, in UTC ("0 2 * * 0": Sundays at 02:00)`,
      `${bad}: maintenance[0].duration: expected a duration like "90m", "3h" or "1d"`,
    ]);
  });

  it('names the file, the key and the problem', () => {
    const file = configFile('master: ws://farm:8010\nname: w1\nsecret_env: SHEPHERD_MISSING\ndir: /w\n');
    expect(problems(() => resolveWorkerOptions({ config: file }, env))).toEqual([`${file}: secret_env: environment variable SHEPHERD_MISSING is not set`]);

    const typo = configFile('master: ws://farm:8010\nnmae: w1\nsecret_env: 1BAD\n');
    expect(problems(() => resolveWorkerOptions({ config: typo }, env)).sort()).toEqual([
      `${typo}: (top level): unknown key "nmae"`,
      `${typo}: secret_env: expected an environment variable name`,
    ]);

    const broken = configFile('master: [unclosed\n');
    expect(problems(() => resolveWorkerOptions({ config: broken }, env))[0]).toMatch(new RegExp(`^${broken}: `));
    expect(problems(() => resolveWorkerOptions({ config: join(dir, 'nope.yml') }, env))[0]).toMatch(/nope\.yml: cannot read: ENOENT/);
  });

  it('names the flag and lists every missing setting', () => {
    expect(problems(() => resolveWorkerOptions({ master: 'http//oops', secretEnv: 'UNSET_VAR' }, env))).toEqual([
      '--master: "http//oops" is not a URL; expected ws://HOST:PORT',
      'missing name: pass --name NAME (or use --config FILE)',
      '--secret-env: environment variable UNSET_VAR is not set',
      'missing dir: pass --dir DIR (or use --config FILE)',
    ]);
    expect(problems(() => resolveWorkerOptions({ master: 'ws://x', name: 'w', secretEnv: 'hunter2!', dir: '/w' }, env))).toEqual([
      `--secret-env: "hunter2!" is not an environment variable name (give the variable's name, not the secret)`,
    ]);
  });

  it('reads the keep policy: caps with defaults, false for none, and names a bad size', () => {
    const base = 'master: ws://farm:8010\nname: w1\nsecret_env: SHEPHERD_SECRET\ndir: /w\n';
    expect(resolveWorkerOptions({ config: configFile(`${base}keep: { max_builds: 2, max_size: 5GB }\n`) }, env).keep).toEqual({ maxBuilds: 2, maxBytes: 5 * 1024 ** 3 });
    expect(resolveWorkerOptions({ config: configFile(`${base}keep: { max_size: 1.5gb }\n`) }, env).keep).toEqual({ maxBuilds: 1, maxBytes: 1.5 * 1024 ** 3 });
    expect(resolveWorkerOptions({ config: configFile(`${base}keep: {}\n`) }, env).keep).toEqual({ maxBuilds: 1, maxBytes: 2 * 1024 ** 3 });
    expect(resolveWorkerOptions({ config: configFile(`${base}keep: false\n`) }, env).keep).toBe(false);
    expect(resolveWorkerOptions({ config: configFile(base) }, env).keep).toBeUndefined();
    const file = configFile(`${base}keep: { max_size: lots }\n`);
    expect(problems(() => resolveWorkerOptions({ config: file }, env))).toEqual([`${file}: keep.max_size: expected a size like "500MB" or "5GB"`]);
  });
});
