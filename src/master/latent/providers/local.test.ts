/**
 * The local provider against a real master process and real agent processes
 * (the built one-file bundle): two instances connect, a new provider (a
 * restarted master) finds them again, and stop() leaves no process behind.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  WORKER_BUNDLE,
  apiGet,
  freePort,
  secret,
  startMasterProcess,
  tempDir,
  waitFor,
  waitForWorkers,
  writeFile,
  type ManagedProcess,
} from '../../../../test/helpers/farm.js';
import { createLocalProvider, parseLocalInstanceId } from './local.js';
import { masterTag, type InstanceSpec, type LatentProvider } from './provider.js';

const TAG = masterTag('test-master');

/** Whether a process with this pid exists at all (a zombie counts: it must have been reaped). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

const pidOf = (base: string, id: string): number => {
  const { pool, name } = parseLocalInstanceId(id)!;
  return JSON.parse(readFileSync(join(base, pool, name, 'instance.json'), 'utf8')).pid as number;
};

describe('local provider', () => {
  let dir: string;
  let baseDir: string;
  let master: ManagedProcess;
  let url: string;
  let workerAddress: string;
  const token = secret();
  const started: { provider: LatentProvider; id: string }[] = [];

  beforeAll(async () => {
    dir = tempDir();
    baseDir = join(dir, 'data', 'latent');
    const port = await freePort();
    const configPath = writeFile(dir, 'shepherd.yml', `
master:
  listen: 127.0.0.1:${port}
  database: sqlite:${dir}/data/shepherd.sqlite
  data_dir: ${dir}/data
workers:
  - { name: cloud-1, secret_env: SHEPHERD_SECRET_CLOUD }
  - { name: cloud-2, secret_env: SHEPHERD_SECRET_CLOUD }
builders:
  - name: unix
    workers: { os: linux }
    steps: [{ name: hello, run: echo hello }]
`);
    // Today's agent only knows secrets: the "token" is the configured secret.
    const masterStarted = await startMasterProcess(configPath, { SHEPHERD_SECRET_CLOUD: token });
    master = masterStarted.process.shareAcrossTests();
    url = masterStarted.url;
    workerAddress = url.replace(/^http/, 'ws');
  });

  afterEach(async () => {
    // Whatever a failed test left running is stopped, so no agent outlives the file.
    for (const { provider, id } of started.splice(0)) await provider.stop(id);
  });

  afterAll(async () => {
    await master?.stop();
  });

  const provider = (graceMs?: number) => createLocalProvider({ baseDir, tag: TAG, bundle: WORKER_BUNDLE, graceMs });
  const spec = (name: string): InstanceSpec => ({
    pool: 'cloud',
    name,
    master: workerAddress,
    token,
    tag: TAG,
    dimensions: { os: 'linux', pool: 'cloud' },
  });
  async function startTracked(p: LatentProvider, s: InstanceSpec): Promise<string> {
    const { id } = await p.start(s);
    started.push({ provider: p, id });
    return id;
  }

  it('starts two agents that connect, finds them again from a new provider, and stops them without a trace', async () => {
    const first = provider();
    const ids = [await startTracked(first, spec('cloud-1')), await startTracked(first, spec('cloud-2'))];
    expect(ids).toEqual(['cloud/cloud-1', 'cloud/cloud-2']);
    await waitForWorkers(url, ['cloud-1', 'cloud-2']);

    const { workers } = await apiGet<{ workers: { name: string; dimensions: Record<string, string> }[] }>(url, '/workers');
    expect(workers.find((w) => w.name === 'cloud-1')?.dimensions).toMatchObject({ pool: 'cloud' });
    const pids = ids.map((id) => pidOf(baseDir, id));
    // Each agent leads its own process group, so it outlives the master that started it.
    for (const pid of pids) expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[2]).toBe(String(pid));
    // The token reached the agent through the environment only, never its config file.
    const workerYml = readFileSync(join(baseDir, 'cloud', 'cloud-1', 'worker.yml'), 'utf8');
    expect(workerYml).toContain('secret_env: SHEPHERD_WORKER_SECRET');
    expect(workerYml).not.toContain(token);

    // A master restart: a new provider over the same directory finds both.
    const restarted = provider();
    const listed = await restarted.list();
    expect(listed.map((i) => [i.id, i.name, i.pool])).toEqual([
      ['cloud/cloud-1', 'cloud-1', 'cloud'],
      ['cloud/cloud-2', 'cloud-2', 'cloud'],
    ]);
    expect(listed[0]!.startedAt).toBeGreaterThan(Date.now() - 60_000);
    expect(await restarted.status('cloud/cloud-1')).toBe('running');
    // Another master's provider over the same directory sees none of them.
    expect(await createLocalProvider({ baseDir, tag: masterTag('other'), bundle: WORKER_BUNDLE }).list()).toEqual([]);

    for (const id of ids) await restarted.stop(id);
    for (const pid of pids) await waitFor(`pid ${pid} reaped`, () => (pidExists(pid) ? undefined : true));
    expect(await restarted.list()).toEqual([]);
    expect(await restarted.status('cloud/cloud-1')).toBe('stopped');
    expect(await restarted.status('cloud/cloud-9')).toBe('unknown');
    // The directory and its log are kept for whoever looks into a failed start.
    expect(readFileSync(join(baseDir, 'cloud', 'cloud-1', 'agent.log'), 'utf8')).toMatch(/SIGTERM/);
    expect(existsSync(join(baseDir, 'cloud', 'cloud-1', 'instance.json'))).toBe(false);
    await waitFor('workers disconnected', async () => {
      const now = await apiGet<{ workers: { name: string; connected: boolean }[] }>(url, '/workers');
      return now.workers.every((w) => !w.connected) ? true : undefined;
    });
    // Stopping again is not an error.
    await restarted.stop(ids[0]!);
  });

  it('refuses a second agent under a running name, and a spec under another tag', async () => {
    const p = provider();
    await startTracked(p, spec('cloud-1'));
    await expect(p.start(spec('cloud-1'))).rejects.toThrow(/cloud\/cloud-1 is already running \(pid \d+\)/);
    await expect(p.start({ ...spec('cloud-2'), tag: masterTag('other') })).rejects.toThrow(/spec\.tag "shepherd-master=other"/);
    await expect(p.start({ ...spec('../x') })).rejects.toThrow(/spec\.name "\.\.\/x"/);
    await expect(p.stop('../../etc')).rejects.toThrow(/not a local instance id/);
  });

  it('does not take a reused pid for its agent', async () => {
    const p = provider();
    const id = await startTracked(p, spec('cloud-2'));
    const stateFile = join(baseDir, 'cloud', 'cloud-2', 'instance.json');
    const real = JSON.parse(readFileSync(stateFile, 'utf8'));
    // Record this test process's pid instead: alive, but not the agent we started.
    writeFileSync(stateFile, JSON.stringify({ ...real, pid: process.pid }));
    expect(await p.status(id)).toBe('stopped');
    expect(await p.list()).toEqual([]);
    await p.stop(id); // must not signal the test process; only drops the record
    writeFileSync(stateFile, JSON.stringify(real));
    expect(await p.status(id)).toBe('running');
  });

  it('keeps its process alive while a stop waits: a master stopping a stray instance as it starts does not exit in the middle', async () => {
    // An agent that takes a moment to end after SIGTERM, and a "master" with nothing else holding its event loop.
    const slow = writeFile(dir, 'slow.mjs', `
process.on('SIGTERM', () => setTimeout(() => process.exit(0), 300));
setInterval(() => {}, 1000);
`);
    const p = createLocalProvider({ baseDir, tag: TAG, bundle: slow, graceMs: 5_000 });
    const id = await startTracked(p, spec('cloud-1'));
    const local = join(ROOT, 'dist/src/master/latent/providers/local.js');
    const script = `
const { createLocalProvider } = await import(${JSON.stringify(local)});
const p = createLocalProvider({ baseDir: ${JSON.stringify(baseDir)}, tag: ${JSON.stringify(TAG)}, bundle: ${JSON.stringify(slow)}, graceMs: 5000 });
await p.stop(${JSON.stringify(id)});
console.log('stopped');
`;
    // Node exits with status 13 when a top-level await is left pending with nothing to wait on.
    expect(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })).toBe('stopped\n');
    expect(await p.status(id)).toBe('stopped');
  });

  it('kills an agent that ignores SIGTERM after the grace period, with the step processes it started', async () => {
    // A stand-in "bundle" that ignores SIGTERM and starts a child in a session of its own, as build steps do.
    const stubborn = writeFile(dir, 'stubborn.mjs', `
import { spawn } from 'node:child_process';
process.on('SIGTERM', () => console.error('SIGTERM ignored'));
const step = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
console.error('step ' + step.pid);
setInterval(() => {}, 1000);
`);
    const p = createLocalProvider({ baseDir, tag: TAG, bundle: stubborn, graceMs: 300 });
    const id = await startTracked(p, spec('cloud-1'));
    const log = join(baseDir, 'cloud', 'cloud-1', 'agent.log');
    const stepPid = Number(await waitFor('the step to start', () => /step (\d+)/.exec(readFileSync(log, 'utf8'))?.[1]));
    const agentPid = pidOf(baseDir, id);
    await p.stop(id);
    expect(readFileSync(log, 'utf8')).toContain('SIGTERM ignored');
    await waitFor('agent reaped', () => (pidExists(agentPid) ? undefined : true));
    // The step was reparented to init once the agent died; it must be gone too (a zombie at most, not running).
    const stepState = existsSync(`/proc/${stepPid}/stat`) ? readFileSync(`/proc/${stepPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0] : 'gone';
    expect(['gone', 'Z', 'X']).toContain(stepState);
  });
});
