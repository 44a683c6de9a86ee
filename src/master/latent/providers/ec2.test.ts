/**
 * The ec2 provider through the real @aws-sdk/client-ec2 against a fake EC2
 * endpoint on 127.0.0.1 (fake-ec2-server.ts), and its user data script run
 * by a real sh with real curl and wget against a real HTTP server.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { tempDir, waitFor } from '../../../../test/helpers/farm.js';
import { ManualClock } from '../../clock.js';
import { createEc2Provider, ec2UserData, shellQuote, type Ec2Settings } from './ec2.js';
import { workerBundleUrl } from './provider.js';
import { listParam, startFakeEc2Server, tagSpecification, type FakeEc2Server } from './fake-ec2-server.js';
import { LatentProviderError, masterTag, type InstanceSpec } from './provider.js';

const TAG = masterTag('m1');
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
/** Values a shell would expand or split if they were ever interpolated unquoted. */
const HOSTILE = [`$(touch pwned)`, '`id`', `it's`, `"double" 'single'`, 'a\nb\n', '$HOME ${PATH} \\ * ? ~ ; & | < >', "'", "''", '', ' lead and trail ', 'tab\there', 'é ☃'];

const spec = (name: string, overrides: Partial<InstanceSpec> = {}): InstanceSpec => ({
  pool: 'cloud',
  name,
  master: 'ws://127.0.0.1:8010',
  token: `tok-${name}-$(touch pwned) "'; x`,
  tag: TAG,
  dimensions: { os: 'linux', 'cpu model': "x 86 'quoted'" },
  ...overrides,
});

/** Runs a script with sh, asynchronously; resolves with its exit status and stderr. */
function runSh(script: string, options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { ...options, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

describe('shellQuote', () => {
  it('round-trips hostile values through sh', () => {
    for (const value of HOSTILE) {
      const out = execFileSync('/bin/sh', ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' });
      expect(out).toBe(value);
      // And as a word among others: it stays one argument.
      const args = execFileSync('/bin/sh', ['-c', `set -- x ${shellQuote(value)} y; printf '%s|' "$#" "$2"`], { encoding: 'utf8' });
      expect(args).toBe(`3|${value}|`);
    }
  });

  it('refuses NUL, which no shell word can hold', () => {
    expect(() => shellQuote('a\0b')).toThrow('NUL');
  });
});

describe('ec2UserData', () => {
  it('names the bundle on the master, over https for wss', () => {
    expect(workerBundleUrl('ws://127.0.0.1:8010')).toBe('http://127.0.0.1:8010/worker/shepherd-worker.mjs');
    expect(workerBundleUrl('wss://farm.example.org/')).toBe('https://farm.example.org/worker/shepherd-worker.mjs');
  });

  it('is a valid sh script for hostile values', () => {
    for (const value of HOSTILE) {
      const script = ec2UserData(spec('w1', { token: value || 'x', dimensions: { [value]: value } }), { dir: `/tmp/${value}` });
      const check = spawnSync('/bin/sh', ['-n'], { input: script, encoding: 'utf8' });
      expect(check.stderr).toBe('');
      expect(check.status).toBe(0);
    }
  });

  describe('run by sh', () => {
    let base: string;
    let closeServer: () => void;
    let port: number;
    let fetches: number;

    beforeEach(async () => {
      base = tempDir('shepherd-ec2-userdata-');
      fetches = 0;
      const server = createServer((request, response) => {
        fetches += 1;
        if (request.url !== '/worker/shepherd-worker.mjs') {
          response.writeHead(404).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'text/javascript' }).end('// the agent bundle\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      closeServer = () => server.close();
    });
    afterEach(() => closeServer());

    /**
     * A PATH holding only the tools the script may use, the downloader given,
     * and a `node` that records what it was run with instead of running it.
     */
    function toolbox(downloader: 'curl' | 'wget'): string {
      const bin = join(base, `bin-${downloader}`);
      mkdirSync(bin);
      for (const tool of ['mkdir', 'cat', 'cp', 'sleep', downloader]) {
        const path = execFileSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
        symlinkSync(path, join(bin, tool));
      }
      writeFileSync(
        join(bin, 'node'),
        `#!/bin/sh
printf '%s\\n' "$@" > "$OUT/args"
printf '%s' "$SHEPHERD_WORKER_SECRET" > "$OUT/secret"
cp worker.yml "$OUT/worker.yml"
cp "$1" "$OUT/bundle"
pwd > "$OUT/cwd"
`,
      );
      chmodSync(join(bin, 'node'), 0o755);
      return bin;
    }

    for (const downloader of ['curl', 'wget'] as const) {
      it(`fetches the agent with ${downloader}, writes worker.yml and runs node with the token`, async () => {
        const out = join(base, `out-${downloader}`);
        mkdirSync(out);
        const dir = join(base, `agent dir ${downloader} $(x)`);
        const token = `s3cr'et $(touch ${join(base, 'pwned')}) \`id\`\nline2`;
        const instance = spec('w1', { master: `ws://127.0.0.1:${port}`, token });
        // Not spawnSync: the server answering the download runs in this process.
        const run = await runSh(ec2UserData(instance, { dir }), { cwd: base, env: { PATH: toolbox(downloader), OUT: out } });
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        expect(fetches).toBe(1);
        expect(readFileSync(join(out, 'secret'), 'utf8')).toBe(token);
        expect(readFileSync(join(out, 'args'), 'utf8')).toBe('shepherd-worker.mjs\n--config\nworker.yml\n');
        expect(readFileSync(join(out, 'bundle'), 'utf8')).toBe('// the agent bundle\n');
        expect(readFileSync(join(out, 'cwd'), 'utf8').trim()).toBe(dir);
        expect(parse(readFileSync(join(out, 'worker.yml'), 'utf8'))).toEqual({
          master: `ws://127.0.0.1:${port}`,
          name: 'w1',
          secret_env: 'SHEPHERD_WORKER_SECRET',
          dir: 'work',
          dimensions: { os: 'linux', 'cpu model': "x 86 'quoted'" },
        });
        expect(() => readFileSync(join(base, 'pwned'))).toThrow();
        expect(() => readFileSync(join(dir, 'work'))).toThrow('EISDIR');
      });
    }
  });
});

describe('ec2 provider against a fake EC2', () => {
  let fake: FakeEc2Server;
  let clock: ManualClock;
  const settings = (overrides: Partial<Ec2Settings> = {}): Ec2Settings => ({
    region: 'eu-west-1',
    image: 'ami-0123456789abcdef0',
    instance_type: 't3.large',
    spot: false,
    security_groups: [],
    endpoint: fake.url,
    ...overrides,
  });
  const provider = (overrides: Partial<Ec2Settings> = {}, tag = TAG, settleMs?: number) =>
    createEc2Provider({ settings: settings(overrides), tag, credentials: CREDENTIALS, clock, ...(settleMs === undefined ? {} : { settleMs }) });

  beforeEach(async () => {
    fake = await startFakeEc2Server({ pageSize: 2 });
    clock = new ManualClock(Date.now());
  });
  afterEach(async () => {
    await fake.close();
  });

  it('starts an instance with the image, type, network, tags and user data', async () => {
    const ec2 = provider({ subnet: 'subnet-0abc', security_groups: ['sg-1', 'sg-2'] });
    expect(ec2.kind).toBe('ec2');
    const { id } = await ec2.start(spec('cloud-1'));
    expect(fake.instances.has(id)).toBe(true);

    const [call, ...more] = fake.callsOf('RunInstances');
    expect(more).toEqual([]);
    const params = call!.params;
    expect(params).toMatchObject({
      MinCount: '1',
      MaxCount: '1',
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't3.large',
      SubnetId: 'subnet-0abc',
      InstanceInitiatedShutdownBehavior: 'terminate',
    });
    expect(params.ClientToken).toMatch(/\S/);
    expect(listParam(params, 'SecurityGroupId')).toEqual(['sg-1', 'sg-2']);
    expect(Object.keys(params).filter((key) => key.startsWith('InstanceMarketOptions'))).toEqual([]);
    const tags = { Name: 'cloud-1', 'shepherd-master': 'm1', 'shepherd-pool': 'cloud', 'shepherd-worker': 'cloud-1' };
    expect(tagSpecification(params, 'instance')).toEqual(tags);
    expect(tagSpecification(params, 'volume')).toEqual(tags);

    const script = Buffer.from(params.UserData!, 'base64').toString('utf8');
    expect(script).toBe(ec2UserData(spec('cloud-1')));
    expect(script).toContain(`url='http://127.0.0.1:8010/worker/shepherd-worker.mjs'`);
    expect(script).toContain(`SHEPHERD_WORKER_SECRET='tok-cloud-1-$(touch pwned) "'\\''; x'`);
    expect(script).toContain('name: cloud-1');
  });

  it('asks for a one-time spot instance when spot is set', async () => {
    await provider({ spot: true }).start(spec('cloud-1'));
    const params = fake.callsOf('RunInstances')[0]!.params;
    expect(params).toMatchObject({
      'InstanceMarketOptions.MarketType': 'spot',
      'InstanceMarketOptions.SpotOptions.SpotInstanceType': 'one-time',
      'InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior': 'terminate',
    });
    expect(params.SubnetId).toBeUndefined();
    expect(listParam(params, 'SecurityGroupId')).toEqual([]);
  });

  it('refuses a spec with another tag without calling EC2', async () => {
    await expect(provider().start(spec('cloud-1', { tag: masterTag('other') }))).rejects.toThrow(
      'ec2 provider: start: spec.tag "shepherd-master=other" is not this provider\'s tag "shepherd-master=m1"',
    );
    expect(fake.calls).toEqual([]);
  });

  it("lists this master's pending and running instances only, across pages", async () => {
    const ec2 = provider();
    const other = provider({}, masterTag('m2'));
    const ids = [];
    for (const name of ['cloud-1', 'cloud-2', 'cloud-3', 'cloud-4']) ids.push((await ec2.start(spec(name))).id);
    await other.start(spec('cloud-9', { tag: masterTag('m2') }));
    fake.setState(ids[1]!, 'running');
    fake.setState(ids[2]!, 'terminated');
    fake.setState(ids[3]!, 'stopped');

    const listed = await ec2.list();
    expect(listed.map(({ id, name, pool }) => ({ id, name, pool }))).toEqual([
      { id: ids[0], name: 'cloud-1', pool: 'cloud' },
      { id: ids[1], name: 'cloud-2', pool: 'cloud' },
    ]);
    expect(listed[0]!.startedAt).toBe(fake.instances.get(ids[0]!)!.launchTime.getTime());

    const describes = fake.callsOf('DescribeInstances');
    expect(describes.length).toBeGreaterThan(1); // pages of 2 over 5 instances
    expect(describes.at(-1)!.params.NextToken).toBeDefined();
    expect(describes[0]!.params).toMatchObject({
      'Filter.1.Name': 'tag:shepherd-master',
      'Filter.1.Value.1': 'm1',
      'Filter.2.Name': 'instance-state-name',
      'Filter.2.Value.1': 'pending',
      'Filter.2.Value.2': 'running',
    });
    expect((await other.list()).map((i) => i.name)).toEqual(['cloud-9']);
  });

  it('reports status, stops with TerminateInstances, and forgets stopped instances', async () => {
    const ec2 = provider();
    const { id } = await ec2.start(spec('cloud-1'));
    expect(await ec2.status(id)).toBe('running'); // pending
    fake.setState(id, 'running');
    expect(await ec2.status(id)).toBe('running');

    await ec2.stop(id);
    expect(fake.callsOf('TerminateInstances').map((c) => listParam(c.params, 'InstanceId'))).toEqual([[id]]);
    expect(fake.instances.get(id)!.state).toBe('terminated');
    expect(await ec2.status(id)).toBe('stopped');
    expect(await ec2.list()).toEqual([]);

    // Stopped from outside (an operator, the instance itself): stopped as well.
    const second = (await ec2.start(spec('cloud-2'))).id;
    fake.setState(second, 'stopping');
    expect(await ec2.status(second)).toBe('stopped');
  });

  it('treats unknown ids as gone', async () => {
    const ec2 = provider();
    await ec2.stop('i-0123456789abcdef0');
    expect(fake.callsOf('TerminateInstances')).toHaveLength(1);
    expect(await ec2.status('i-0123456789abcdef0')).toBe('unknown');
    expect(await ec2.status('not-an-instance')).toBe('unknown');
  });

  it('turns API errors into LatentProviderErrors naming the code', async () => {
    const ec2 = createEc2Provider({ settings: settings(), tag: TAG, credentials: CREDENTIALS, clock, maxAttempts: 1 });
    fake.failNext('RunInstances', 'InsufficientInstanceCapacity', 'We currently do not have sufficient t3.large capacity in the Availability Zone you requested.', { status: 500 });
    const error = await ec2.start(spec('cloud-1')).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LatentProviderError);
    expect((error as LatentProviderError).operation).toBe('start');
    expect((error as Error).message).toBe(
      'ec2 provider: start: RunInstances of t3.large from ami-0123456789abcdef0 in eu-west-1: InsufficientInstanceCapacity: We currently do not have sufficient t3.large capacity in the Availability Zone you requested.',
    );
    expect(fake.instances.size).toBe(0);

    fake.failNext('DescribeInstances', 'UnauthorizedOperation', 'You are not authorized to perform this operation.');
    await expect(ec2.list()).rejects.toThrow('ec2 provider: list: DescribeInstances tagged shepherd-master=m1: UnauthorizedOperation: You are not authorized');
    fake.failNext('DescribeInstances', 'RequestLimitExceeded', 'Request limit exceeded.', { status: 503 });
    await expect(ec2.status('i-0123456789abcdef0')).rejects.toThrow('ec2 provider: status: DescribeInstances i-0123456789abcdef0: RequestLimitExceeded: Request limit exceeded.');
    fake.failNext('TerminateInstances', 'OperationNotPermitted', 'The instance may not be terminated.');
    await expect(ec2.stop('i-0123456789abcdef0')).rejects.toThrow('ec2 provider: stop: TerminateInstances i-0123456789abcdef0: OperationNotPermitted: The instance');
    expect(() => createEc2Provider({ settings: settings(), tag: 'm1', credentials: CREDENTIALS })).toThrow('tag "m1"');
  });

  it('retries a failed RunInstances with the same ClientToken, starting one instance', async () => {
    fake.failNext('RunInstances', 'InternalError', 'An internal error has occurred.', { status: 500 });
    const { id } = await provider().start(spec('cloud-1'));
    const runs = fake.callsOf('RunInstances');
    expect(runs).toHaveLength(2);
    expect(runs[1]!.params.ClientToken).toBe(runs[0]!.params.ClientToken);
    expect([...fake.instances.keys()]).toEqual([id]);
  });

  it('waits out eventual consistency after a start instead of leaking the instance', async () => {
    const ec2 = provider({}, TAG, 60_000);
    fake.lagNext(3);
    const { id } = await ec2.start(spec('cloud-1'));
    expect(await ec2.status(id)).toBe('running'); // NotFound, but just started
    const stopping = ec2.stop(id);
    await waitFor('the terminate to get through', () => {
      clock.advance(1_000);
      return fake.instances.get(id)!.state === 'terminated' || undefined;
    });
    await stopping;
    expect(fake.callsOf('TerminateInstances').length).toBe(3);

    // Past the settling time, NotFound means gone.
    fake.lagNext(5);
    const late = (await ec2.start(spec('cloud-2'))).id;
    clock.advance(60_000);
    expect(await ec2.status(late)).toBe('unknown');
    await ec2.stop(late);
    expect(fake.instances.get(late)!.state).toBe('pending');
  });
});
