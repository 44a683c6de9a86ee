/**
 * Buildbot workers on a real master process: `master.buildbot_listen` and a
 * `protocol: buildbot` worker in its config file, Debian's buildbot-worker
 * 3.7 (unmodified) connecting to it next to a Shepherd agent (the one-file
 * bundle). Through the API and the `shepherd` CLI: it is listed with its
 * protocol and its `info/admin` as contact, a sample build on it ends
 * SUCCESS with the log the same build has on the agent, cancelling its
 * running build interrupts the command, a wrong password is refused, a
 * debug session on its build is refused, and a Shepherd agent using its
 * name and password is turned away.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE, createBuildbotWorker, startBuildbotWorker, type BuildbotWorkerProcess } from './helpers/buildbot-worker.js';
import {
  apiGet,
  freePort,
  runCli,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitFor,
  waitForWorkers,
  writeFile,
  type ManagedProcess,
} from './helpers/farm.js';

function config(port: number, buildbotPort: number): string {
  const sample = `[{ name: sample, run: ${JSON.stringify(SAMPLE)}, env: { GREETING: "hi there" } }]`;
  return `# shepherd.yml
master:
  listen: 127.0.0.1:${port}
  buildbot_listen: 127.0.0.1:${buildbotPort}
  database: sqlite:./data/shepherd.sqlite
  data_dir: ./data
  api_token_env: SHEPHERD_API_TOKEN
workers:
  - { name: bb, protocol: buildbot, secret_env: SECRET_BB, dimensions: { arch: x86_64 } }
  - { name: bb-2, protocol: buildbot, secret_env: SECRET_BB_2, dimensions: { arch: x86_64 } }
  - { name: agent-1, secret_env: SECRET_AGENT_1 }
builders:
  - { name: sample, workers: [bb], steps: ${sample} }
  - { name: sample-on-agent, workers: [agent-1], steps: ${sample} }
  - name: slow
    workers: [bb]
    steps:
      - { name: sleep, run: "echo started; sleep 60; echo never" }
  - name: red
    workers: [bb]
    keep_workdir_on_failure: true
    steps:
      - { name: fail, run: "echo broken; exit 2" }
`;
}

interface WorkerJson {
  name: string;
  connected: boolean;
  protocol: string | null;
  admins: string[];
  last_seen: number | null;
  info: { hostname?: string; agent_version?: string } | null;
}

let dir: string;
let url: string;
let token: string;
let buildbotPort: number;
let master: ManagedProcess;
let agent: ManagedProcess;
let bb: BuildbotWorkerProcess;
const secrets = { bb: secret(), 'bb-2': secret(), 'agent-1': secret() };

/** The CLI against this master, with the API token. */
const cli = ([command, ...rest]: string[]) => runCli([command!, '--master', url, ...rest], { SHEPHERD_API_TOKEN: token });

async function worker(name: string): Promise<WorkerJson> {
  return apiGet<WorkerJson>(url, `/workers/${name}`);
}

async function stepLog(stepId: number): Promise<string> {
  const response = await fetch(`${url}/api/v1/steps/${stepId}/log`);
  expect(response.status).toBe(200);
  return response.text();
}

/** `shepherd force BUILDER --wait --json`: the finished build, its steps and their logs from the API. */
async function forceAndWait(builder: string) {
  const forced = await cli(['force', builder, '--wait', '--json']);
  expect(forced.code, forced.stderr).toBe(0);
  const { id } = JSON.parse(forced.stdout) as { id: number };
  const build = await apiGet<{ id: number; worker: string; result: string; steps: { id: number }[] }>(url, `/builds/${id}`);
  const logs = await Promise.all(build.steps.map((s) => stepLog(s.id)));
  return { build, logs };
}

beforeAll(async () => {
  dir = tempDir('shepherd-buildbot-master-');
  token = secret();
  buildbotPort = await freePort();
  const configPath = writeFile(dir, 'shepherd.yml', config(await freePort(), buildbotPort));
  const started = await startMasterProcess(configPath, {
    SHEPHERD_API_TOKEN: token,
    SECRET_BB: secrets.bb,
    SECRET_BB_2: secrets['bb-2'],
    SECRET_AGENT_1: secrets['agent-1'],
  });
  master = started.process.shareAcrossTests();
  url = started.url;
  await master.waitForOutput(/listening for Buildbot workers/);
  agent = startWorkerProcess({ master: url.replace('http', 'ws'), name: 'agent-1', secret: secrets['agent-1'], dir: join(dir, 'agent-1') }).shareAcrossTests();
  bb = startBuildbotWorker(createBuildbotWorker({ dir: join(dir, 'bb'), port: buildbotPort, name: 'bb', password: secrets.bb }));
  bb.process.shareAcrossTests();
  await waitForWorkers(url, ['agent-1', 'bb'], 30_000).catch((error: Error) => {
    throw new Error(`${error.message}\nbuildbot-worker log:\n${bb.log().slice(-3000)}\nmaster:\n${master.stderr.slice(-3000)}`);
  });
}, 90_000);

afterAll(async () => {
  await bb?.stop();
  await agent?.stop();
  await master?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a Buildbot worker on a real master', () => {
  it('is listed with protocol buildbot and its info/admin as contact, in the API and `shepherd workers`', async () => {
    const bbJson = await worker('bb');
    expect(bbJson).toMatchObject({ connected: true, protocol: 'buildbot', admins: ['Grace Hopper <grace@example.org>'] });
    expect(bbJson.info?.hostname).toBe('a Debian test box');
    expect(bbJson.info?.agent_version).toMatch(/^buildbot-worker 3\.7/);
    expect(await worker('agent-1')).toMatchObject({ connected: true, protocol: 'shepherd' });

    const listed = await cli(['workers', '--json']);
    expect(listed.code).toBe(0);
    const { workers } = JSON.parse(listed.stdout) as { workers: WorkerJson[] };
    expect(workers.find((w) => w.name === 'bb')).toMatchObject({ protocol: 'buildbot', admins: ['Grace Hopper <grace@example.org>'] });
    expect(workers.find((w) => w.name === 'agent-1')).toMatchObject({ protocol: 'shepherd' });

    const table = await cli(['workers']);
    expect(table.code).toBe(0);
    const row = table.stdout.split('\n').find((line) => line.startsWith('bb '));
    expect(row, table.stdout).toContain('Grace Hopper <grace@example.org>');
    expect(row).toContain('linux/x86_64');
  });

  it('runs the sample build to SUCCESS with the same log as the same build on the Shepherd agent', async () => {
    const [onBuildbot, onAgent] = await Promise.all([forceAndWait('sample'), forceAndWait('sample-on-agent')]);
    expect(onBuildbot.build).toMatchObject({ worker: 'bb', result: 'SUCCESS' });
    expect(onAgent.build).toMatchObject({ worker: 'agent-1', result: 'SUCCESS' });
    expect(onBuildbot.logs[0]).toContain('configure: ok\nwarning: something\nhéllo wörld\n\n');
    expect(onBuildbot.logs[0]!.endsWith('step dir: yes\nGREETING=hi there\nno newline at the end')).toBe(true);
    expect(onBuildbot.logs[0]).toBe(onAgent.logs[0]);
  });

  it('`shepherd cancel` of its running build interrupts the command: CANCELLED', async () => {
    const queued = await cli(['force', 'slow', '--json']);
    expect(queued.code, queued.stderr).toBe(0);
    const buildId = (JSON.parse(queued.stdout) as { id: number }).id;
    const stepId = await waitFor('the slow step to print', async () => {
      const build = await apiGet<{ steps: { id: number; state: string }[] }>(url, `/builds/${buildId}`);
      const step = build.steps[0];
      return step?.state === 'running' && (await stepLog(step.id)).includes('started') ? step.id : undefined;
    });
    const cancelledAt = Date.now();
    const cancel = await cli(['cancel', String(buildId), '--reason', 'e2e cancel']);
    expect(cancel.code, cancel.stderr).toBe(0);
    const build = await waitFor('the cancelled build to finish', async () => {
      const b = await apiGet<{ state: string; result: string | null }>(url, `/builds/${buildId}`);
      return b.state === 'finished' ? b : undefined;
    }, 30_000);
    expect(build.result).toBe('CANCELLED');
    expect(Date.now() - cancelledAt).toBeLessThan(20_000);
    const log = await stepLog(stepId);
    expect(log).toContain('started\n[shepherd] cancelled: e2e cancel: interrupting the command on the Buildbot worker\n');
    expect(log).not.toContain('never');
    await bb.waitForLog(/asked to interrupt current command: e2e cancel/);
  });

  it('refuses a buildbot-worker with a wrong password: its twistd.log shows the 401, the API never shows it connected', async () => {
    const wrong = startBuildbotWorker(createBuildbotWorker({ dir: join(dir, 'bb-2-wrong'), port: buildbotPort, name: 'bb-2', password: 'not-the-password' }));
    try {
      const refused = /failing WebSocket opening handshake \('WebSocket connection upgrade failed \[401\]: Unauthorized'\)/;
      await wrong.waitForLog(refused);
      await master.waitForOutput(/refused buildbot worker: wrong secret for worker \\"bb-2\\"/);
      // It retries (every 2 s at most): refused again, and still never connected.
      await wrong.waitForLog(new RegExp(`${refused.source}[\\s\\S]*${refused.source}`));
      expect(await worker('bb-2')).toMatchObject({ connected: false, protocol: null, last_seen: null });
      expect(wrong.log()).not.toContain('WebSocket connection open');
    } finally {
      await wrong.stop();
    }
    // The right worker was not disturbed.
    expect(await worker('bb')).toMatchObject({ connected: true, protocol: 'buildbot' });
  });

  it('says on a failed build that a Buildbot worker cannot keep its tree (keep_workdir_on_failure is not attempted)', async () => {
    const forced = await cli(['force', 'red', '--wait', '--json']);
    // A red build makes `force --wait` exit non-zero.
    expect(forced.code, forced.stderr).not.toBe(0);
    const { id } = JSON.parse(forced.stdout) as { id: number };
    const build = await apiGet<{ result: string; steps: { id: number }[]; properties: Record<string, string> }>(url, `/builds/${id}`);
    expect(build.result).toBe('FAILURE');
    expect(await stepLog(build.steps[0]!.id)).toBe('broken\n');
    const { properties } = build;
    expect(properties.workdir_not_kept).toBe("worker bb is a Buildbot worker, which cannot keep a build's tree");
    expect(properties.workdir_kept).toBeUndefined();
  });

  it('refuses a debug session on its build, saying it is a Buildbot worker', async () => {
    const { build } = await forceAndWait('sample');
    const debug = await cli(['debug', String(build.id), '--user', 'ada', '--', 'pwd']);
    expect(debug.code).toBe(1);
    expect(debug.stdout).toBe('');
    expect(debug.stderr).toContain(`worker bb, which ran build ${build.id}, is a Buildbot worker: debug sessions are unavailable there`);
    // Refused before the worker was asked: nothing in its audit.
    expect(await apiGet(url, `/builds/${build.id}/debug-sessions`)).toEqual({ sessions: [] });
  });

  it('turns away a Shepherd agent that uses its name and password', async () => {
    const impostor = startWorkerProcess({ master: url.replace('http', 'ws'), name: 'bb', secret: secrets.bb, dir: join(dir, 'impostor') });
    try {
      await impostor.waitForOutput(/worker "bb" is configured with protocol: buildbot/);
      await master.waitForOutput(/refused worker connection: worker \\"bb\\" is configured with protocol: buildbot/);
    } finally {
      await impostor.stop();
    }
    expect(await worker('bb')).toMatchObject({ connected: true, protocol: 'buildbot' });
  });
});
