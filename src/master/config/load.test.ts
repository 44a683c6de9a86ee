import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ShepherdError } from '../errors.js';
import { loadConfig, parseConfig, readSecrets } from './load.js';
import { formatDuration, parseDuration, parseSize } from './units.js';

/** The configuration from the core issue, verbatim. */
const ISSUE_CONFIG = readFileSync(new URL('../../../test/fixtures/core-issue-config.yml', import.meta.url), 'utf8');

function write(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-config-'));
  const file = join(dir, 'shepherd.yml');
  writeFileSync(file, text);
  return file;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ShepherdError);
    expect((error as ShepherdError).code).toBe('SHEPHERD_E_CONFIG');
    return (error as ShepherdError).details!.problems as string[];
  }
  throw new Error('expected the config to be refused');
}

describe('units', () => {
  it('parses and formats durations', () => {
    expect([parseDuration('500ms'), parseDuration('30s'), parseDuration('5m'), parseDuration('1h'), parseDuration('14d'), parseDuration('0')])
      .toEqual([500, 30_000, 300_000, 3_600_000, 1_209_600_000, 0]);
    expect(parseDuration('ten')).toBeNull();
    expect(parseDuration('5 minutes')).toBeNull();
    expect(formatDuration(1_200_000)).toBe('20m');
    expect(formatDuration(1500)).toBe('1500ms');
  });
  it('parses sizes', () => {
    expect([parseSize('512B'), parseSize('64KB'), parseSize('10MB'), parseSize('2gb')]).toEqual([512, 65_536, 10_485_760, 2_147_483_648]);
    expect(parseSize('lots')).toBeNull();
  });
});

describe('loadConfig', () => {
  it('accepts the configuration from the core issue exactly, and freezes it', () => {
    const file = write(ISSUE_CONFIG);
    const config = loadConfig(file);
    expect(config.master.worker_lost_after).toBe(300_000);
    expect(config.master.database).toBe(`sqlite:${join(file, '..', 'data/shepherd.sqlite')}`);
    expect(config.workers.map((w) => [w.name, w.max_builds])).toEqual([['linux-1', 2], ['linux-2', 1]]);
    const [configure, build, test, clean] = config.builders[0]!.steps;
    expect(configure).toMatchObject({ run: './configure ${{ props.config_flags }}', halt_on_failure: true, timeout: 1_200_000 });
    expect(build).toMatchObject({ run: ['make', '-j2'], timeout: 1_200_000, max_time: 7_200_000 });
    expect(test).toMatchObject({ env: { LANG: 'C' }, halt_on_failure: false });
    expect(clean).toMatchObject({ always_run: true });
    expect(Object.isFrozen(config.builders[0]!.steps[0])).toBe(true);
  });

  it('names the file, the path and what was expected', () => {
    const file = write(ISSUE_CONFIG.replace('timeout: 20m', 'timeout: ten').replace('max_builds: 2', 'max_builds: two'));
    expect(problems(() => loadConfig(file))).toEqual([
      `${file}: workers[0].max_builds: Invalid input: expected number, received string`,
      `${file}: builders[0].steps[1].timeout: expected a duration like "30s", got "ten"`,
    ]);
  });

  it('refuses unknown keys (typos), duplicate names and unknown workers', () => {
    expect(problems(() => parseConfig({ builders: [{ name: 'b', workers: ['w'], steps: [{ name: 's', run: 'x', tiemout: '1s' }] }] }, 'f.yml')))
      .toEqual(['f.yml: builders[0].steps[0]: unknown key "tiemout"', 'f.yml: builders[0].workers[0]: no worker named "w" in workers']);
    expect(problems(() => parseConfig({
      workers: [{ name: 'w', secret_env: 'S' }, { name: 'w', secret_env: 'T' }],
      builders: [{ name: 'b', workers: ['w', 'x'], steps: [{ name: 's', run: 'x' }, { name: 's', run: 'y' }] }],
    }, 'f.yml'))).toEqual([
      'f.yml: workers[1].name: duplicate name "w"',
      'f.yml: builders[0].steps[1].name: duplicate step name "s"',
      'f.yml: builders[0].workers[1]: no worker named "x" in workers',
    ]);
  });

  it('reports YAML syntax errors and unreadable files', () => {
    const file = write('master: {listen: [\n');
    expect(problems(() => loadConfig(file))[0]).toMatch(new RegExp(`^${file}: `));
    expect(problems(() => loadConfig('/nonexistent/shepherd.yml'))[0]).toMatch(/cannot read/);
  });
});

describe('readSecrets', () => {
  const config = parseConfig({ master: { api_token_env: 'TOKEN' }, workers: [{ name: 'w', secret_env: 'W_SECRET' }] }, 'f.yml');
  it('reads worker secrets and the API token from the environment', () => {
    const secrets = readSecrets(config, { W_SECRET: 's', TOKEN: 't' });
    expect(secrets.workers.get('w')).toBe('s');
    expect(secrets.apiToken).toBe('t');
  });
  it('refuses a worker whose secret is not set', () => {
    expect(problems(() => readSecrets(config, {}))).toEqual(['workers[0].secret_env: environment variable W_SECRET is not set']);
  });
});
