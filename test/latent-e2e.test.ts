/**
 * On-demand workers, end to end, with real processes: a real master whose
 * `local` pool starts real worker agents (the one-file bundle) in their own
 * directories; a `command` pool whose scripts start a process that never
 * connects; a master killed with SIGKILL and started again; a `when:
 * platform-short` pool behind a real volunteer worker; a budget that runs
 * out (its alert goes to a real SMTP server); and an `ec2` pool whose calls
 * go to a local server speaking the EC2 Query API.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLocalProvider } from '../src/master/latent/providers/local.js';
import { masterTag } from '../src/master/latent/providers/provider.js';
import { startFakeEc2Server, type FakeEc2Server } from '../src/master/latent/providers/fake-ec2-server.js';
import { startSmtpServer, type TestSmtpServer } from '../src/master/notify/test-servers.js';
import {
  ManagedProcess,
  WORKER_BUNDLE,
  apiGet,
  freePort,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitFor,
  writeFile,
} from './helpers/farm.js';
import { stopLocalInstances } from './helpers/latent.js';

const TOKEN = secret();
const ENV = { SHEPHERD_API_TOKEN: TOKEN };

interface Instance {
  id: number;
  name: string;
  pool: string;
  provider_id: string | null;
  state: string;
  started_at: number;
  connected_at: number | null;
  stopped_at: number | null;
  builds: number;
  reason: string | null;
  cost: number;
}

function masterSection(o: { dir: string; port: number }): string {
  return `
master:
  listen: 127.0.0.1:${o.port}
  database: sqlite:${o.dir}/shepherd.sqlite
  data_dir: ${o.dir}/data
  api_token_env: SHEPHERD_API_TOKEN
  worker_lost_after: 10m
`;
}

async function force(url: string, builder: string): Promise<number> {
  const response = await fetch(`${url}/api/v1/builders/${builder}/force`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: '{}',
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { request: { id: number } }).request.id;
}

const instances = (url: string) => apiGet<{ instances: Instance[] }>(url, '/instances').then((r) => r.instances);
const request = (url: string, id: number) => apiGet<{ state: string; build_id: number | null; result: string | null; waiting?: string | null }>(url, `/requests/${id}`);

/** Whether a pid runs: exists and is not a zombie (an orphan killed here waits for this container's init to reap it). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pid a local instance's state file records, or null when it has none (stopped). */
function localPid(dir: string, pool: string, name: string): number | null {
  const file = join(dir, 'data', 'latent', pool, name, 'instance.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid : null;
}

let masters: ManagedProcess[] = [];
let cleanups: (() => Promise<void> | void)[] = [];
let dataDirs: string[] = [];
afterEach(async () => {
  for (const master of masters) await master.stop();
  for (const cleanup of cleanups.reverse()) await cleanup();
  // Masters leave their instances running for their next start; a test stops what its master left.
  for (const dataDir of dataDirs) await stopLocalInstances(dataDir);
  masters = [];
  cleanups = [];
  dataDirs = [];
});

async function startMaster(dir: string, yaml: string, env: Record<string, string> = {}): Promise<string> {
  dataDirs.push(join(dir, 'data'));
  const started = await startMasterProcess(writeFile(dir, 'shepherd.yml', yaml), { ...ENV, ...env });
  masters.push(started.process);
  return started.url;
}

describe('on-demand workers', () => {
  it('a local pool and no static worker: a forced build starts an instance, runs on it, and the instance stops when idle; the API shows its life and cost', async () => {
    const dir = tempDir();
    const url = await startMaster(dir, `${masterSection({ dir, port: await freePort() })}
latent:
  - { name: cloud, provider: local, dimensions: { pool: cloud }, max_instances: 2, start_timeout: 1m, idle_timeout: 2s, cost_per_hour: 3.6 }
budget: { monthly: 100 }
builders:
  - name: b1
    workers: { pool: cloud }
    steps: [{ name: hello, run: 'echo "hello from $PWD"' }]
`);
    const id = await force(url, 'b1');
    const done = await waitFor('the build to finish', async () => {
      const r = await request(url, id);
      return r.state === 'complete' ? r : undefined;
    });
    expect(done.result).toBe('SUCCESS');
    const build = await apiGet<{ worker: string; steps: { id: number }[] }>(url, `/builds/${done.build_id}`);
    expect(build.worker).toBe('cloud-1');
    const log = await fetch(`${url}/api/v1/steps/${build.steps[0]!.id}/log`).then((r) => r.text());
    // The step ran in the instance's own directory under the master's data_dir/latent.
    expect(log).toContain(`hello from ${join(dir, 'data', 'latent', 'cloud', 'cloud-1', 'work')}`);

    // While it waits for work it is listed with the workers, as an instance.
    const pid = localPid(dir, 'cloud', 'cloud-1');
    expect(pid).not.toBeNull();
    expect(alive(pid!)).toBe(true);

    const stopped = await waitFor('the idle instance to stop', async () => {
      const [first] = await instances(url);
      return first?.state === 'stopped' ? first : undefined;
    });
    expect(stopped).toMatchObject({ name: 'cloud-1', pool: 'cloud', provider_id: 'cloud/cloud-1', builds: 1 });
    expect(stopped.reason).toMatch(/^instance cloud-1 of cloud idle for \d+ms \(idle_timeout 2s\); stopping it$/);
    expect(stopped.connected_at! - stopped.started_at).toBeGreaterThanOrEqual(0);
    expect(stopped.stopped_at! - stopped.connected_at!).toBeGreaterThanOrEqual(2000);
    // Cost from the real start and stop times: 3.6 an hour is 0.001 a second.
    expect(stopped.cost).toBeCloseTo(((stopped.stopped_at! - stopped.started_at) / 1000) * 0.001, 6);
    const cost = await apiGet<{ spent: number; pools: { name: string; spent: number; running: number }[] }>(url, '/cost');
    expect(cost.pools).toEqual([expect.objectContaining({ name: 'cloud', running: 0 })]);
    expect(cost.spent).toBeCloseTo(stopped.cost, 6);
    // Nothing left running, and the worker is gone from the list.
    expect(alive(pid!)).toBe(false);
    expect(localPid(dir, 'cloud', 'cloud-1')).toBeNull();
    expect((await apiGet<{ workers: unknown[] }>(url, '/workers')).workers).toEqual([]);
  });

  it('a start that never connects is stopped after start_timeout, the pool backs off, and the build waits saying why; nothing is left running', async () => {
    const dir = tempDir();
    // The operator's scripts: a "machine" (a sleep) that boots but never runs an agent.
    writeFile(dir, 'start.sh', `sleep 600 </dev/null >/dev/null 2>&1 &\necho $! > "${dir}/$SHEPHERD_INSTANCE.pid"\necho "$!"\n`);
    writeFile(dir, 'stop.sh', 'kill "$SHEPHERD_INSTANCE_ID" 2>/dev/null || true\n');
    writeFile(dir, 'status.sh', 'if kill -0 "$SHEPHERD_INSTANCE_ID" 2>/dev/null; then echo running; else echo stopped; fi\n');
    writeFile(dir, 'list.sh', `for f in "${dir}"/*.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; done; true\n`);
    const port = await freePort();
    const url = await startMaster(dir, `${masterSection({ dir, port })}
  public_url: http://127.0.0.1:${port}
latent:
  - name: lab
    provider: command
    command: { start: 'sh ${dir}/start.sh', stop: 'sh ${dir}/stop.sh', status: 'sh ${dir}/status.sh', list: 'sh ${dir}/list.sh' }
    dimensions: { pool: lab }
    start_timeout: 2s
builders:
  - { name: b1, workers: { pool: lab }, steps: [{ name: hello, run: 'echo hi' }] }
`);
    const id = await force(url, 'b1');
    const started = await waitFor('the instance to start', async () => (await instances(url)).find((i) => i.provider_id !== null));
    const pid = Number(started.provider_id);
    // Should the test fail before the pool stops it: a master leaves its instances running for its next start.
    cleanups.push(() => void (alive(pid) && process.kill(pid)));
    expect(alive(pid)).toBe(true);
    expect((await request(url, id)).waiting).toMatch(/^waiting: (starting an instance of pool lab|an instance of pool lab is starting) for it$/);

    const failed = await waitFor('the start to time out', async () => (await instances(url)).find((i) => i.state === 'failed'), 15_000);
    expect(failed.reason).toBe('instance lab-1 of lab did not connect within 2s (start_timeout): the start failed; stopping it');
    expect(alive(pid)).toBe(false);
    // Backing off: no second start, and the queued build says why.
    const waiting = await waitFor('the backoff reason', async () => {
      const r = await request(url, id);
      return r.waiting?.includes('backing off') ? r.waiting : undefined;
    });
    expect(waiting).toMatch(/^waiting: pool lab is backing off after 1 failed start until \d\d:\d\d UTC$/);
    expect((await request(url, id)).state).toBe('queued');
    expect(await instances(url)).toHaveLength(1);
    const cost = await apiGet<{ pools: { backoff: { failures: number } | null }[] }>(url, '/cost');
    expect(cost.pools[0]!.backoff).toMatchObject({ failures: 1 });
  });

  it('a master killed while an instance builds adopts it after a restart: the build resumes there; a tagged instance it does not know is stopped', async () => {
    const dir = tempDir();
    const port = await freePort();
    const yaml = `${masterSection({ dir, port })}
latent:
  - { name: cloud, provider: local, dimensions: { pool: cloud }, max_instances: 2, idle_timeout: 10m }
builders:
  - name: b1
    workers: { pool: cloud }
    steps: [{ name: wait, run: 'echo started; while [ ! -f "${dir}/go" ]; do sleep 0.05; done; echo finished' }]
`;
    let url = await startMaster(dir, yaml);
    const first = await force(url, 'b1');
    const running = await waitFor('the first build to run', async () => {
      const r = await request(url, first);
      return r.state === 'claimed' ? r : undefined;
    });
    const pid = localPid(dir, 'cloud', 'cloud-1')!;
    expect(alive(pid)).toBe(true);

    masters[0]!.kill('SIGKILL');
    await masters[0]!.exited;
    // While the master is down, an instance appears under its tag that it never recorded.
    const stray = createLocalProvider({ baseDir: join(dir, 'data', 'latent'), tag: masterTag('shepherd'), bundle: WORKER_BUNDLE });
    await stray.start({ pool: 'cloud', name: 'cloud-9', master: `ws://127.0.0.1:${port}`, token: 'never-issued', tag: masterTag('shepherd'), dimensions: {} });
    const strayPid = localPid(dir, 'cloud', 'cloud-9')!;
    expect(alive(strayPid)).toBe(true);

    url = await startMaster(dir, yaml);
    // The known instance is adopted: its agent reconnects with its session secret, same record, not a second one.
    await waitFor('cloud-1 to reconnect', async () => {
      const { workers } = await apiGet<{ workers: { name: string; connected: boolean; instance: Instance | null }[] }>(url, '/workers');
      return workers.find((w) => w.name === 'cloud-1' && w.connected) ? true : undefined;
    });
    expect(localPid(dir, 'cloud', 'cloud-1')).toBe(pid);
    // The stray one is stopped.
    await waitFor('the stray instance to stop', () => (alive(strayPid) ? undefined : true));
    expect(localPid(dir, 'cloud', 'cloud-9')).toBeNull();

    // The build left running resumes on the adopted instance and finishes there.
    writeFile(dir, 'go', '');
    const resumed = await waitFor('the first build to finish', async () => {
      const r = await request(url, first);
      return r.state === 'complete' ? r : undefined;
    });
    expect(resumed).toMatchObject({ result: 'SUCCESS', build_id: running.build_id });
    const build = await apiGet<{ worker: string; steps: { id: number }[] }>(url, `/builds/${resumed.build_id}`);
    expect(build.worker).toBe('cloud-1');
    expect(await fetch(`${url}/api/v1/steps/${build.steps[0]!.id}/log`).then((r) => r.text())).toBe('started\nfinished\n');

    // The adopted instance takes the next build; no second instance starts.
    const second = await force(url, 'b1');
    const done = await waitFor('the second build', async () => {
      const r = await request(url, second);
      return r.state === 'complete' ? r : undefined;
    });
    expect(done.result).toBe('SUCCESS');
    expect((await apiGet<{ worker: string }>(url, `/builds/${done.build_id}`)).worker).toBe('cloud-1');
    const all = await instances(url);
    expect(all.map((i) => [i.id, i.name, i.state])).toEqual([[1, 'cloud-1', 'idle']]);
    expect(all[0]!.builds).toBe(2);
    // Stopping the master leaves the instance running, for its next start to adopt.
    await masters[1]!.stop();
    expect(alive(pid)).toBe(true);
    expect(await stopLocalInstances(join(dir, 'data'))).toBe(1);
    expect(alive(pid)).toBe(false);
  });

  it('a platform-short pool starts nothing while the platform’s volunteer is connected, and starts one when it goes', async () => {
    const dir = tempDir();
    const workerSecret = secret();
    const url = await startMaster(
      dir,
      `${masterSection({ dir, port: await freePort() })}
workers:
  - { name: vol, secret_env: VOL_SECRET, dimensions: { pool: shared } }
platforms:
  - { name: shared-linux, select: { pool: shared }, redundancy: 1 }
latent:
  - { name: backup, provider: local, dimensions: { pool: shared }, when: platform-short, idle_timeout: 0 }
builders:
  - name: b1
    workers: { pool: shared }
    steps: [{ name: wait, run: 'while [ ! -f "${dir}/go" ]; do sleep 0.05; done; echo done' }]
`,
      { VOL_SECRET: workerSecret },
    );
    const vol = startWorkerProcess({ master: url.replace(/^http/, 'ws'), name: 'vol', secret: workerSecret, dir: join(dir, 'vol') });
    await waitFor('vol to connect', async () => ((await apiGet<{ workers: { name: string; connected: boolean }[] }>(url, '/workers')).workers.find((w) => w.name === 'vol' && w.connected) ? true : undefined));
    const onVol = await force(url, 'b1');
    await waitFor('the first build to start on vol', async () => ((await request(url, onVol)).state === 'claimed' ? true : undefined));
    const queued = await force(url, 'b1');
    const reason = await waitFor('the pool to decide', async () => (await request(url, queued)).waiting ?? undefined);
    expect(reason).toBe('waiting: pool backup starts only while its platform is below redundancy, and shared-linux is not');
    expect(await instances(url)).toEqual([]);

    // The volunteer goes away: the platform is short, and the pool fills the gap.
    vol.kill('SIGKILL');
    await vol.exited;
    const started = await waitFor('an instance to start', async () => (await instances(url))[0]);
    expect(started.name).toBe('backup-1');
    writeFile(dir, 'go', '');
    const done = await waitFor('the queued build to run on the instance', async () => {
      const r = await request(url, queued);
      return r.state === 'complete' ? r : undefined;
    });
    expect(done.result).toBe('SUCCESS');
    expect((await apiGet<{ worker: string }>(url, `/builds/${done.build_id}`)).worker).toBe('backup-1');
    // idle_timeout 0: one build, then it stops.
    const stopped = await waitFor('the instance to stop after its build', async () => ((await instances(url)).find((i) => i.state === 'stopped')));
    expect(stopped.reason).toBe('instance backup-1 of backup finished its build (idle_timeout 0: one build, then stop); stopping it');
  });

  describe('with a mail server', () => {
    let smtp: TestSmtpServer;
    afterEach(async () => smtp?.close());

    it('a budget past its alert mails the announce list once; exhausted, no instance starts and the build says why', async () => {
      smtp = await startSmtpServer();
      const dir = tempDir();
      // 36000 an hour is 10 a second: the one instance spends the budget of 2 within a fraction of a second past its build.
      const url = await startMaster(dir, `${masterSection({ dir, port: await freePort() })}
fleet:
  announce: [ops@example.org]
notify:
  mail: { smtp: "${smtp.url}", from: shepherd@example.org }
latent:
  - { name: cloud, provider: local, dimensions: { pool: cloud }, idle_timeout: 0, cost_per_hour: 36000 }
budget: { monthly: 2, alert_at: 0.8 }
builders:
  - { name: b1, workers: { pool: cloud }, steps: [{ name: hello, run: 'sleep 0.3; echo hi' }] }
`);
      const first = await force(url, 'b1');
      await waitFor('the first build', async () => ((await request(url, first)).state === 'complete' ? true : undefined));
      await waitFor('the instance to stop', async () => ((await instances(url))[0]?.state === 'stopped' ? true : undefined));
      const mail = await waitFor('the budget alert', () => smtp.messages.find((m) => m.subject.includes('budget')));
      expect(mail.to).toEqual(['ops@example.org']);
      expect(mail.subject).toMatch(/^Shepherd: on-demand workers at \d+% of the \d{4}-\d\d budget$/);
      // Sent by the first decision past 80%: while the instance still runs (under 100%) or after (exhausted).
      expect(mail.text).toMatch(/^On-demand workers have spent \d+\.\d\d of the monthly budget of 2\.00 in \d{4}-\d\d \(UTC\)\./);
      expect(mail.text).toMatch(/The budget is exhausted: no new instance starts until next month|At 100% no new instance starts/);

      const second = await force(url, 'b1');
      const waiting = await waitFor('the budget reason', async () => (await request(url, second)).waiting ?? undefined);
      expect(waiting).toBe('waiting: budget 2 reached: no new instance');
      const cost = await apiGet<{ exhausted: boolean; notes: string[] }>(url, '/cost');
      expect(cost).toMatchObject({ exhausted: true, notes: ['budget 2 reached: no new instance'] });
      expect(await instances(url)).toHaveLength(1);
      // Once per month: later decisions send nothing more.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(smtp.messages.filter((m) => m.subject.includes('budget'))).toHaveLength(1);
    });
  });

  describe('with a local EC2 API server', () => {
    let ec2: FakeEc2Server;
    afterEach(async () => ec2?.close());

    it('an ec2 pool calls RunInstances with the user data and tags, then TerminateInstances when the instance never connects', async () => {
      ec2 = await startFakeEc2Server();
      const dir = tempDir();
      const port = await freePort();
      const url = await startMaster(
        dir,
        `${masterSection({ dir, port })}
  id: farm-a
  public_url: http://127.0.0.1:${port}
latent:
  - name: aws
    provider: ec2
    ec2: { region: eu-west-1, image: ami-0123456789abcdef0, instance_type: t3.large, spot: true, endpoint: "${ec2.url}" }
    dimensions: { pool: aws }
    start_timeout: 2s
builders:
  - { name: b1, workers: { pool: aws }, steps: [{ name: hello, run: 'echo hi' }] }
`,
        { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1' },
      );
      await force(url, 'b1');
      const run = await waitFor('RunInstances', () => ec2.callsOf('RunInstances')[0]);
      expect(run.params).toMatchObject({ ImageId: 'ami-0123456789abcdef0', InstanceType: 't3.large', MinCount: '1', MaxCount: '1' });
      expect(run.params['InstanceMarketOptions.MarketType']).toBe('spot');
      const userData = Buffer.from(run.params.UserData!, 'base64').toString('utf8');
      expect(userData).toContain(`http://127.0.0.1:${port}/worker/shepherd-worker.mjs`);
      expect(userData).toContain('name: aws-1');
      const [instance] = [...ec2.instances.values()];
      expect(instance!.tags).toMatchObject({ Name: 'aws-1', 'shepherd-master': 'farm-a', 'shepherd-pool': 'aws', 'shepherd-worker': 'aws-1' });
      const listed = await waitFor('the instance id recorded', async () => (await instances(url)).find((i) => i.provider_id === instance!.id));
      expect(listed.name).toBe('aws-1');

      const terminate = await waitFor('TerminateInstances', () => ec2.callsOf('TerminateInstances')[0], 15_000);
      expect(terminate.params['InstanceId.1']).toBe(instance!.id);
      const failed = await waitFor('the start recorded as failed', async () => (await instances(url)).find((i) => i.state === 'failed'));
      expect(failed.reason).toContain('did not connect within 2s');
      expect(['shutting-down', 'terminated']).toContain(ec2.instances.get(instance!.id)!.state);
    });
  });
});
