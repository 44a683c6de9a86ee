/**
 * The core, end to end: a real master process, real worker processes (the
 * one-file bundle), the CLI, real builds of the example C project.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLI,
  ManagedProcess,
  ROOT,
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
} from './helpers/farm.js';

const EXAMPLE = join(ROOT, 'examples/hello-c');

/** The configuration from the core issue, with the port, the database and worker_lost_after changed. */
function issueConfig(port: number, database: string, lostAfter = '5m'): string {
  return readFileSync(join(ROOT, 'test/fixtures/core-issue-config.yml'), 'utf8')
    .replace('listen: 127.0.0.1:8010', `listen: 127.0.0.1:${port}`)
    .replace('database: sqlite:./data/shepherd.sqlite', `database: ${database}`)
    .replace('worker_lost_after: 5m', `worker_lost_after: ${lostAfter}`);
}

interface Farm {
  dir: string;
  url: string;
  env: Record<string, string>;
  master: Awaited<ReturnType<typeof startMasterProcess>>['process'];
  secrets: Record<string, string>;
}

async function startFarm(configText: (port: number) => string, workers: string[]): Promise<Farm & { workers: Record<string, ReturnType<typeof startWorkerProcess>> }> {
  const dir = tempDir();
  const port = await freePort();
  const configPath = writeFile(dir, 'shepherd.yml', configText(port));
  const secrets = Object.fromEntries(workers.map((w) => [w, secret()]));
  const env: Record<string, string> = {
    SHEPHERD_API_TOKEN: secret(),
    SHEPHERD_SECRET_LINUX_1: secrets['linux-1'] ?? secret(),
    SHEPHERD_SECRET_LINUX_2: secrets['linux-2'] ?? secret(),
  };
  const { process: master, url } = await startMasterProcess(configPath, env);
  const procs: Record<string, ReturnType<typeof startWorkerProcess>> = {};
  for (const name of workers) {
    procs[name] = startWorkerProcess({ master: url.replace('http', 'ws'), name, secret: secrets[name]!, dir: join(dir, name) });
  }
  await waitForWorkers(url, workers);
  return { dir, url, env, master, secrets, workers: procs };
}

function client(farm: Farm, args: string[]) {
  return runCli([...args, '--master', farm.url], { SHEPHERD_API_TOKEN: farm.env.SHEPHERD_API_TOKEN! });
}

describe('a master and two workers build the example project', () => {
  it('force --wait --json reports every step and logs match the commands byte for byte', async () => {
    const farm = await startFarm((port) => issueConfig(port, 'sqlite:./data/shepherd.sqlite'), ['linux-1', 'linux-2']);
    // The builder's directory on each worker holds the sample project (the core has no checkout step).
    for (const w of ['linux-1', 'linux-2']) cpSync(EXAMPLE, join(farm.dir, w, 'unix-tests'), { recursive: true });

    const forced = await client(farm, ['force', 'unix-tests', '--wait', '--json']);
    expect(forced.stderr).not.toMatch(/shepherd: /);
    expect(forced.code).toBe(0);
    const build = JSON.parse(forced.stdout);
    expect(build).toMatchObject({ builder: 'unix-tests', number: 1, result: 'SUCCESS' });
    expect(build.steps.map((s: any) => [s.name, s.result])).toEqual([
      ['configure', 'SUCCESS'], ['build', 'SUCCESS'], ['test', 'SUCCESS'], ['clean', 'SUCCESS'],
    ]);

    // Run the same commands directly on a copy and compare with the stored logs.
    const direct = tempDir();
    cpSync(EXAMPLE, direct, { recursive: true });
    const commands: Record<string, string> = {
      configure: './configure --with-pydebug',
      build: 'make -j2',
      test: 'LANG=C make test',
      clean: 'make clean',
    };
    for (const [step, command] of Object.entries(commands)) {
      const expected = execFileSync('/bin/sh', ['-c', `${command} 2>&1`], { cwd: direct });
      const log = await client(farm, ['log', String(build.id), '--step', step]);
      expect(log.code).toBe(0);
      expect(Buffer.from(log.stdout)).toEqual(expected);
    }
    const raw = await fetch(`${farm.url}/api/v1/builds/${build.id}/steps/test/log`);
    expect(raw.status).toBe(200);
    expect((await raw.text())).toContain('ok ');

    await Promise.all([farm.master.stop(), ...Object.values(farm.workers).map((w) => w.stop())]);
  });

  it('a worker killed with -9 mid-build: the build ends RETRY and its request runs on the other worker', async () => {
    const farm = await startFarm((port) => `
master: { listen: "127.0.0.1:${port}", database: "sqlite:./shepherd.sqlite", api_token_env: SHEPHERD_API_TOKEN, worker_lost_after: 1500ms }
workers:
  - { name: linux-1, secret_env: SHEPHERD_SECRET_LINUX_1, dimensions: { os: linux } }
  - { name: linux-2, secret_env: SHEPHERD_SECRET_LINUX_2, dimensions: { os: linux } }
builders:
  - name: slow
    workers: { os: linux }
    steps:
      - { name: work, run: "echo running on \${{ props.worker }}; sleep 2; echo done" }
`, ['linux-1', 'linux-2']);
    // Without --wait, force prints the build once a worker has taken it.
    const forced = await client(farm, ['force', 'slow', '--json']);
    expect(forced.code).toBe(0);
    const first = JSON.parse(forced.stdout);
    expect(first).toMatchObject({ builder: 'slow', number: 1, state: 'running', result: null });
    expect(first.steps.map((s: any) => s.name)).toEqual(['work']);
    // Kill it once its step runs, not before the worker has it.
    await waitFor('the step to start', async () => {
      const build = await apiGet(farm.url, `/builds/${first.id}`);
      return build.steps[0].state === 'running' ? true : undefined;
    });
    farm.workers[first.worker]!.kill('SIGKILL');
    const other = first.worker === 'linux-1' ? 'linux-2' : 'linux-1';

    const finished = await waitFor('the retried build to succeed', async () => {
      const { builds } = await apiGet(farm.url, '/builds?builder=slow');
      return builds.length === 2 && builds[0].state === 'finished' ? builds : undefined;
    }, 30_000);
    expect(finished[1]).toMatchObject({ number: 1, worker: first.worker, result: 'RETRY' });
    expect(finished[0]).toMatchObject({ number: 2, worker: other, result: 'SUCCESS' });
    const log = await fetch(`${farm.url}/api/v1/builds/${finished[0].id}/steps/work/log`).then((r) => r.text());
    expect(log).toBe(`running on ${other}\ndone\n`);

    await Promise.all([farm.master.stop(), farm.workers[other]!.stop()]);
  });
});

describe.each(['sqlite', 'postgres'] as const)('the master killed with -9 during a step (%s)', (kind) => {
  it('restarts, the build finishes SUCCESS, finished steps are not rerun, the log has every line once', async () => {
    const { testDatabaseUrl } = await import('./helpers/databases.js');
    const db = kind === 'postgres' ? await testDatabaseUrl('postgres') : null;
    const database = db ? db.url : 'sqlite:./shepherd.sqlite';
    const config = (port: number) => `
master: { listen: "127.0.0.1:${port}", database: "${database}", api_token_env: SHEPHERD_API_TOKEN, worker_lost_after: 1m }
workers:
  - { name: linux-1, secret_env: SHEPHERD_SECRET_LINUX_1, dimensions: { os: linux } }
builders:
  - name: long
    workers: [linux-1]
    steps:
      - { name: first, run: "echo first >> runs.txt; echo first done" }
      - { name: count, run: "for i in $(seq 1 60); do echo line $i; sleep 0.05; done; echo count >> runs.txt" }
      - { name: last, run: "echo last >> runs.txt; cat runs.txt" }
`;
    const farm = await startFarm(config, ['linux-1']);
    const queued = JSON.parse((await client(farm, ['force', 'long', '--queued', '--json'])).stdout);
    expect(queued).toMatchObject({ builder: 'long', state: 'queued', build_id: null });

    const countStep = await waitFor('the count step to print line 10', async () => {
      const { builds } = await apiGet(farm.url, '/builds?builder=long');
      if (!builds[0]) return undefined;
      const build = await apiGet(farm.url, `/builds/${builds[0].id}`);
      const step = build.steps.find((s: any) => s.name === 'count');
      if (step?.state !== 'running') return undefined;
      const text = await fetch(`${farm.url}/api/v1/steps/${step.id}/log`).then((r) => r.text());
      return text.includes('line 10\n') ? { build, step } : undefined;
    });
    farm.master.kill('SIGKILL');
    await farm.master.exited;

    const configPath = join(farm.dir, 'shepherd.yml');
    const restarted = await startMasterProcess(configPath, farm.env);
    const build = await waitFor('the build to finish after the restart', async () => {
      const b = await apiGet(restarted.url, `/builds/${countStep.build.id}`);
      return b.state === 'finished' ? b : undefined;
    }, 40_000);
    expect(build.result).toBe('SUCCESS');
    expect(build.steps.map((s: any) => s.result)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS']);

    const log = await fetch(`${restarted.url}/api/v1/steps/${countStep.step.id}/log`).then((r) => r.text());
    const expected = Array.from({ length: 60 }, (_, i) => `line ${i + 1}\n`).join('');
    expect(log).toBe(expected);
    const runs = readFileSync(join(farm.dir, 'linux-1', 'long', 'runs.txt'), 'utf8');
    expect(runs).toBe('first\ncount\nlast\n');

    await Promise.all([restarted.process.stop(), farm.workers['linux-1']!.stop()]);
    await db?.drop();
  });
});

describe('bad input is refused clearly and disturbs nothing else', () => {
  it('a wrong worker secret and a malformed frame close only that connection', async () => {
    const farm = await startFarm((port) => issueConfig(port, 'sqlite:./shepherd.sqlite').replace(
      /builders:[\s\S]*/,
      'builders:\n  - name: quick\n    workers: { os: linux }\n    steps:\n      - { name: hello, run: "echo hello" }\n',
    ), ['linux-1']);

    const impostor = startWorkerProcess({ master: farm.url.replace('http', 'ws'), name: 'linux-2', secret: 'wrong', dir: join(farm.dir, 'impostor') });
    await impostor.waitForOutput(/wrong secret for worker "linux-2"/);
    await farm.master.waitForOutput(/refused worker connection: wrong secret for worker \\"linux-2\\"/);
    impostor.kill('SIGKILL');
    await impostor.exited;

    const { WebSocket } = await import('ws');
    const closeCode = await new Promise<number>((res, rej) => {
      const ws = new WebSocket(`${farm.url.replace('http', 'ws')}/worker`);
      ws.on('open', () => ws.send('{"type":"hello","protocol":1,"name":'));
      ws.on('close', (code) => res(code));
      ws.on('error', rej);
    });
    expect(closeCode).toBe(1008);
    await farm.master.waitForOutput(/control frame is not JSON/);

    // The good worker is still connected and still builds.
    const forced = await client(farm, ['force', 'quick', '--wait', '--json']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout).result).toBe('SUCCESS');
    const { workers } = await apiGet(farm.url, '/workers');
    expect(workers.find((w: any) => w.name === 'linux-1').connected).toBe(true);

    await Promise.all([farm.master.stop(), farm.workers['linux-1']!.stop()]);
  });

  it('a config typo is refused with the file, the path and what was expected, before anything starts', async () => {
    const dir = tempDir();
    const bad = writeFile(dir, 'bad.yml', issueConfig(8999, 'sqlite:./data/shepherd.sqlite').replace('timeout: 20m', 'timeout: ten'));
    const checked = await runCli(['check-config', bad]);
    expect(checked.code).toBe(1);
    expect(checked.stderr).toContain(`${bad}: builders[0].steps[1].timeout: expected a duration like "30s", got "ten"`);

    const master = await runCli(['master', '--config', bad], { SHEPHERD_SECRET_LINUX_1: 'a', SHEPHERD_SECRET_LINUX_2: 'b' });
    expect(master.code).not.toBe(0);
    expect(master.stderr).toContain('builders[0].steps[1].timeout');
    expect(existsSync(join(dir, 'data'))).toBe(false);

    const good = writeFile(dir, 'good.yml', issueConfig(8999, 'sqlite:./data/shepherd.sqlite'));
    const ok = await runCli(['check-config', good]);
    expect(ok.code).toBe(0);
  });

  it('an API call with a bad field gets a 4xx naming the field', async () => {
    const farm = await startFarm((port) => issueConfig(port, 'sqlite:./shepherd.sqlite'), []);
    const response = await fetch(`${farm.url}/api/v1/builders/unix-tests/force`, {
      method: 'POST',
      headers: { authorization: `Bearer ${farm.env.SHEPHERD_API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { config_flags: 3 } }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as any;
    expect(body.error.code).toBe('SHEPHERD_E_VALIDATION');
    expect(body.error.message).toContain('properties.config_flags');
    await farm.master.stop();
  });
});


describe('a volunteer runs `shepherd worker --config worker.yml`', () => {
  it('connects with the admin contact and extra dimensions from its own config, and builds', async () => {
    const farm = await startFarm((port) => `
master: { listen: "127.0.0.1:${port}", database: "sqlite:./shepherd.sqlite", api_token_env: SHEPHERD_API_TOKEN }
workers:
  - { name: linux-1, secret_env: SHEPHERD_SECRET_LINUX_1, dimensions: { os: linux } }
builders:
  - name: glibc-only
    workers: { libc: glibc-2.36 }
    steps:
      - { name: hello, run: "echo hello from \${{ props.worker }}" }
`, []);
    const workerDir = join(farm.dir, 'volunteer');
    const workerConfig = writeFile(farm.dir, 'worker.yml', `
master: ${farm.url.replace('http', 'ws')}
name: linux-1
secret_env: SHEPHERD_SECRET_LINUX_1
dir: ${workerDir}
admin: "Ada Lovelace <ada@example.org>"
dimensions: { libc: glibc-2.36 }    # added to what the agent detects itself
`);
    const worker = new ManagedProcess('shepherd worker', spawn(process.execPath, [CLI, 'worker', '--config', workerConfig], {
      env: { ...process.env, SHEPHERD_SECRET_LINUX_1: farm.env.SHEPHERD_SECRET_LINUX_1 },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    await waitForWorkers(farm.url, ['linux-1']);
    const shown = await apiGet(farm.url, '/workers/linux-1');
    expect(shown.info).toMatchObject({ admin: 'Ada Lovelace <ada@example.org>', os: expect.any(String), agent_version: expect.any(String) });
    expect(shown.dimensions).toMatchObject({ os: 'linux', libc: 'glibc-2.36' });

    const forced = await client(farm, ['force', 'glibc-only', '--wait', '--json']);
    expect(forced.code).toBe(0);
    const build = JSON.parse(forced.stdout);
    const log = await client(farm, ['log', String(build.id), '--step', 'hello']);
    expect(log.stdout).toBe('hello from linux-1\n');

    await Promise.all([farm.master.stop(), worker.stop()]);
  });
});
