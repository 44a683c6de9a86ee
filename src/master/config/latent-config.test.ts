/**
 * The `latent` and `budget` config sections: the issue's example loads as
 * written, and each mistake is refused naming its path.
 */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ShepherdError } from '../errors.js';
import { parseConfig } from './load.js';

const ISSUE_EXAMPLE = `
platforms:
  - name: linux-x86_64
    select: { os: linux, arch: x86_64 }
latent:
  - name: cloud-linux
    provider: local              # local | command | ec2 | kubernetes
    dimensions: { os: linux, arch: x86_64 }
    max_instances: 4
    start_timeout: 10m           # not connected by then: the start failed
    idle_timeout: 10m            # idle this long: stop it (0: one build, then stop)
    cost_per_hour: 0.10
    when: always                 # or platform-short: only while the platform is below redundancy
budget:
  monthly: 200                   # no new starts past this; alert before
`;

const base = () => parse(ISSUE_EXAMPLE) as any;

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'shepherd.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ShepherdError);
    return (error as ShepherdError).details!.problems as string[];
  }
  throw new Error('expected the config to be refused');
}

describe('latent pools and budget config', () => {
  it("loads the issue's example with durations in ms and the alert default", () => {
    const config = parseConfig(base(), 'shepherd.yml');
    expect(config.latent).toEqual([
      {
        name: 'cloud-linux',
        provider: 'local',
        dimensions: { os: 'linux', arch: 'x86_64' },
        max_instances: 4,
        start_timeout: 600_000,
        idle_timeout: 600_000,
        cost_per_hour: 0.1,
        admins: [],
        when: 'always',
      },
    ]);
    expect(config.budget).toEqual({ monthly: 200, alert_at: 0.8 });
  });

  it('applies defaults, takes idle_timeout 0, and has no budget when nothing costs money', () => {
    const config = parseConfig({ latent: [{ name: 'free', provider: 'local', idle_timeout: '0' }] }, 'shepherd.yml');
    expect(config.latent[0]).toMatchObject({ max_instances: 1, start_timeout: 600_000, idle_timeout: 0, cost_per_hour: 0, when: 'always', dimensions: {} });
    // A bare 0, as YAML reads `idle_timeout: 0`, is a duration too; other numbers are not (their unit would be a guess).
    expect(parseConfig({ latent: [{ name: 'free', provider: 'local', idle_timeout: 0 }] }, 'shepherd.yml').latent[0]!.idle_timeout).toBe(0);
    expect(() => parseConfig({ latent: [{ name: 'free', provider: 'local', idle_timeout: 5 }] }, 'shepherd.yml')).toThrow(/latent\[0\]\.idle_timeout/);
    expect(config.budget).toBeUndefined();
    expect(parseConfig({}, 'shepherd.yml').latent).toEqual([]);
  });

  it('loads each provider with its own settings', () => {
    const raw = base();
    raw.master = { public_url: 'https://ci.example.org' };
    raw.latent.push(
      { name: 'lab', provider: 'command', command: { start: './start.sh', stop: ['./stop.sh'], status: './status.sh', list: './list.sh' } },
      { name: 'aws', provider: 'ec2', ec2: { region: 'eu-west-1', image: 'ami-123', instance_type: 't3.large', endpoint: 'http://127.0.0.1:4566' } },
      { name: 'k8s', provider: 'kubernetes', kubernetes: { image: 'node:20' } },
    );
    const config = parseConfig(raw, 'shepherd.yml');
    expect(config.latent[1]!.command).toEqual({ start: './start.sh', stop: ['./stop.sh'], status: './status.sh', list: './list.sh' });
    expect(config.latent[2]!.ec2).toEqual({ region: 'eu-west-1', image: 'ami-123', instance_type: 't3.large', endpoint: 'http://127.0.0.1:4566', spot: false, security_groups: [] });
    expect(config.latent[3]!.kubernetes).toEqual({ image: 'node:20', namespace: 'default' });
  });

  it('refuses a pool whose instances run elsewhere when the master has no public_url for them to dial', () => {
    const raw = base();
    raw.latent[0] = { name: 'aws', provider: 'ec2', ec2: { region: 'eu-west-1', image: 'ami-123', instance_type: 't3.large' } };
    expect(problems(raw)).toEqual([
      'shepherd.yml: latent[0].provider: instances of pool aws (provider ec2) connect to the master from another machine: set master.public_url to the address they reach it at',
    ]);
    raw.master = { public_url: 'https://ci.example.org' };
    expect(parseConfig(raw, 'shepherd.yml').latent[0]!.provider).toBe('ec2');
  });

  it('refuses a duplicate pool name', () => {
    const raw = base();
    raw.latent.push({ ...raw.latent[0] });
    expect(problems(raw)).toEqual(['shepherd.yml: latent[1].name: duplicate name "cloud-linux"']);
  });

  it('refuses an unknown provider and settings of another provider', () => {
    const raw = base();
    raw.latent[0].provider = 'azure';
    expect(problems(raw)).toEqual([expect.stringMatching(/^shepherd\.yml: latent\[0\]\.provider: /)]);

    const mixed = base();
    mixed.latent[0].ec2 = { region: 'eu-west-1', image: 'ami-1', instance_type: 't3.micro' };
    expect(problems(mixed)).toEqual(['shepherd.yml: latent[0].ec2: settings for provider ec2, but provider is local']);
  });

  it("refuses a provider without its settings, and its settings' missing keys", () => {
    const raw = base();
    raw.latent[0].provider = 'command';
    raw.master = { public_url: 'https://ci.example.org' };
    expect(problems(raw)).toEqual(['shepherd.yml: latent[0].command: provider command needs its settings under command']);

    const partial = base();
    partial.master = { public_url: 'https://ci.example.org' };
    partial.latent[0].provider = 'command';
    partial.latent[0].command = { start: './start.sh', stop: './stop.sh', status: './status.sh' };
    expect(problems(partial)).toEqual([expect.stringMatching(/^shepherd\.yml: latent\[0\]\.command\.list: /)]);
  });

  it('refuses bad numbers, durations and when', () => {
    const raw = base();
    raw.latent[0].max_instances = 0;
    raw.latent[0].start_timeout = 'soon';
    raw.latent[0].cost_per_hour = -1;
    raw.latent[0].when = 'sometimes';
    const found = problems(raw).map((p) => p.split(': ').slice(0, 2).join(': '));
    expect(found.sort()).toEqual([
      'shepherd.yml: latent[0].cost_per_hour',
      'shepherd.yml: latent[0].max_instances',
      'shepherd.yml: latent[0].start_timeout',
      'shepherd.yml: latent[0].when',
    ]);
  });

  it('refuses when: platform-short without a platform these dimensions satisfy', () => {
    const raw = base();
    raw.latent[0].when = 'platform-short';
    expect(parseConfig(raw, 'shepherd.yml').latent[0]!.when).toBe('platform-short');

    raw.platforms[0].select = { os: 'linux', arch: 'aarch64' };
    expect(problems(raw)).toEqual([
      'shepherd.yml: latent[0].when: platform-short needs a platform (in platforms) whose select these dimensions satisfy',
    ]);
    delete raw.platforms;
    expect(problems(raw)).toHaveLength(1);
  });

  it('refuses a pool that costs money without a budget, and a bad budget', () => {
    const raw = base();
    delete raw.budget;
    expect(problems(raw)).toEqual(['shepherd.yml: latent[0].cost_per_hour: a pool that costs money needs a budget: set budget.monthly']);

    const bad = base();
    bad.budget = { monthly: 0, alert_at: 1.5, yearly: 3 };
    const found = problems(bad).map((p) => p.split(': ').slice(0, 2).join(': '));
    expect(found.sort()).toEqual(['shepherd.yml: budget', 'shepherd.yml: budget.alert_at', 'shepherd.yml: budget.monthly']);
    expect(problems(bad)).toContain('shepherd.yml: budget: unknown key "yearly"');
  });
});
