/**
 * Buildbot workers in the config: `protocol` defaults to the Shepherd agent,
 * a `protocol: buildbot` worker needs `master.buildbot_listen`, that address
 * is HOST:PORT, and no config worker may take the name of a latent pool's
 * instance. Each mistake is refused naming its path.
 */
import { describe, expect, it } from 'vitest';
import { ShepherdError } from '../errors.js';
import { parseConfig } from './load.js';

function problems(raw: unknown): string[] {
  try {
    parseConfig(raw, 'shepherd.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ShepherdError);
    return (error as ShepherdError).details!.problems as string[];
  }
  throw new Error('expected the config to be refused');
}

describe('Buildbot workers in the config', () => {
  it('a worker is a Shepherd agent unless it says otherwise, and buildbot_listen is unset by default', () => {
    const config = parseConfig({ workers: [{ name: 'linux-1', secret_env: 'S1' }] }, 'shepherd.yml');
    expect(config.workers[0]!.protocol).toBe('shepherd');
    expect(config.master.buildbot_listen).toBeUndefined();
  });

  it('loads a Buildbot worker with master.buildbot_listen', () => {
    const config = parseConfig({
      master: { buildbot_listen: '0.0.0.0:9990' },
      workers: [{ name: 'bb-linux', protocol: 'buildbot', secret_env: 'SHEPHERD_SECRET_BB_LINUX' }, { name: 'linux-1', secret_env: 'S1' }],
    }, 'shepherd.yml');
    expect(config.master.buildbot_listen).toBe('0.0.0.0:9990');
    expect(config.workers.map((w) => w.protocol)).toEqual(['buildbot', 'shepherd']);
  });

  it('refuses a Buildbot worker when master.buildbot_listen is not set, naming workers[i].protocol', () => {
    expect(problems({ workers: [{ name: 'linux-1', secret_env: 'S1' }, { name: 'bb-linux', protocol: 'buildbot', secret_env: 'S2' }] })).toEqual([
      'shepherd.yml: workers[1].protocol: a Buildbot worker connects to master.buildbot_listen, which is not set',
    ]);
  });

  it('refuses a protocol it does not know', () => {
    expect(problems({ workers: [{ name: 'bb-linux', protocol: 'pb', secret_env: 'S1' }] })).toEqual([
      expect.stringMatching(/^shepherd\.yml: workers\[0\]\.protocol: .*"shepherd".*"buildbot"/),
    ]);
  });

  it.each(['9990', ':9990', 'ws://0.0.0.0:9990', '0.0.0.0:9990/', 'bb host:9990'])('refuses buildbot_listen %j, saying HOST:PORT', (listen) => {
    expect(problems({ master: { buildbot_listen: listen } })).toEqual([
      'shepherd.yml: master.buildbot_listen: expected HOST:PORT like "127.0.0.1:8010"',
    ]);
  });

  it('refuses a port past 65535, and buildbot_listen on master.listen’s own address', () => {
    expect(problems({ master: { buildbot_listen: '127.0.0.1:99999' } })).toEqual(['shepherd.yml: master.buildbot_listen: the port must be 0 to 65535']);
    expect(problems({ master: { listen: '127.0.0.1:8010', buildbot_listen: '127.0.0.1:8010' } })).toEqual([
      'shepherd.yml: master.buildbot_listen: the same address as master.listen (127.0.0.1:8010): Buildbot workers need a port of their own',
    ]);
  });

  it("refuses a config worker named like a latent pool's instance, naming workers[i].name", () => {
    const latent = [{ name: 'cloud', provider: 'local' }];
    expect(problems({ latent, workers: [{ name: 'linux-1', secret_env: 'S1' }, { name: 'cloud-1', secret_env: 'S2' }] })).toEqual([
      'shepherd.yml: workers[1].name: "cloud-1" is the name of an instance of latent pool cloud (its instances are cloud-1, cloud-2...): rename the worker or the pool',
    ]);
    // Names that only look alike are not instances' names.
    const config = parseConfig({ latent, workers: [{ name: 'cloud-x', secret_env: 'S1' }, { name: 'cloudy-1', secret_env: 'S2' }, { name: 'cloud', secret_env: 'S3' }] }, 'shepherd.yml');
    expect(config.workers.map((w) => w.name)).toEqual(['cloud-x', 'cloudy-1', 'cloud']);
  });
});
