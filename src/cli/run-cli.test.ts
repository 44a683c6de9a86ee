import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHttpServer } from '../master/api/server.js';
import { createTestControl, TEST_TOKEN, type TestControl } from '../master/api/test-control.js';
import type { Build, BuildRequest } from '../master/domain.js';
import { createProgram } from './program.js';
import { runCli } from './run-cli.js';

let control: TestControl;
let app: FastifyInstance;
let master: string;
let client: string[];
let stdout: Buffer[];
let stderr: string[];

beforeAll(async () => {
  control = await createTestControl();
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  master = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  client = ['--master', master];
});
afterAll(async () => {
  await app.close();
  await control.close();
});

beforeEach(() => {
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(Buffer.from(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

const shepherd = (...args: string[]) => runCli(['node', 'shepherd', ...args]);
const out = () => Buffer.concat(stdout).toString();

/**
 * linux-1 connects and the coordinator runs the request's build there: each
 * step writes `<name> output\n` (then `extra[name]`) and takes 1.2s; `test`
 * ends with `result`. linux-1 disconnects afterwards, so later requests stay queued.
 */
async function runBuild(request: BuildRequest, result: 'SUCCESS' | 'FAILURE', extra: Record<string, Buffer> = {}): Promise<Build> {
  if (!control.connection('linux-1')) await control.connect('linux-1');
  const started = await control.buildStarted(request.id);
  const build = await control.runBuild(started.id, (step) => {
    control.sendOutput(step.id, `${step.name} output\n`);
    if (extra[step.name]) control.sendOutput(step.id, extra[step.name]!);
    return { duration_ms: 1200, exit_code: step.name === 'test' && result === 'FAILURE' ? 1 : 0 };
  });
  control.disconnect('linux-1');
  return build;
}

describe('every command', () => {
  it('has a one-line description and --help', async () => {
    const program = createProgram({ exitCode: 0 });
    expect(program.commands.length).toBeGreaterThanOrEqual(12);
    for (const command of program.commands) {
      expect(command.description(), command.name()).toMatch(/^[^\n]{10,100}$/);
      stdout = [];
      expect(await shepherd(command.name(), '--help')).toBe(0);
      expect(out()).toContain(`Usage: shepherd ${command.name()}`);
    }
  });

  it('answers usage errors on one line with exit 2', async () => {
    expect(await shepherd('force', 'x', '--jsno')).toBe(2);
    expect(await shepherd('force', 'x', '--prop', 'novalue')).toBe(2);
    expect(await shepherd('log')).toBe(2);
    expect(await shepherd('log', 'abc')).toBe(2);
    expect(await shepherd('builds', '--master', 'ftp://x')).toBe(2);
    expect(stderr).toHaveLength(5);
    for (const line of stderr) expect(line).toMatch(/^shepherd: [^\n]+\n$/);
  });
});

describe('force', () => {
  it('--queued queues a request and prints its id', async () => {
    expect(await shepherd('force', 'unix-tests', '--queued', '--prop', 'branch=dev', '-p', 'x=1', '--token', TEST_TOKEN, ...client)).toBe(0);
    const id = Number(out().trim());
    const request = await control.store.getRequest(id);
    expect(request).toMatchObject({ builder: 'unix-tests', properties: { branch: 'dev', x: '1' } });
    expect(request?.submittedBy).not.toBe('api');
    await control.cancelRequest(id);
  });

  it('without --queued, waits for a worker to take the request and prints the build', async () => {
    const queued = control.events.once('build:queued');
    const cli = shepherd('force', 'unix-tests', '--json', '--token', TEST_TOKEN, ...client);
    const { request } = await queued;
    await control.connect('linux-1');
    const started = await control.buildStarted(request.id);
    expect(await cli).toBe(0);
    expect(JSON.parse(out())).toMatchObject({ id: started.id, number: started.number, builder: 'unix-tests', state: 'running' });
    await control.finishBuild(started.id);
    control.disconnect('linux-1');
  });

  it('without --queued, exits 1 when the request is cancelled before it starts', async () => {
    const queued = control.events.once('build:queued');
    const cli = shepherd('force', 'unix-tests', '--token', TEST_TOKEN, ...client);
    await control.cancelRequest((await queued).request.id);
    expect(await cli).toBe(1);
    expect(stderr.join('')).toMatch(/was cancelled before it started/);
  });

  it('reports API errors as one line with the code, exit 1', async () => {
    expect(await shepherd('force', 'unix-tests', ...client)).toBe(1);
    expect(stderr.join('')).toMatch(/^shepherd: this call needs the master's API token: .* \(SHEPHERD_E_UNAUTHORIZED\)\n$/);
    stderr = [];
    expect(await shepherd('force', 'nope', '--token', TEST_TOKEN, ...client)).toBe(1);
    expect(stderr.join('')).toMatch(/^shepherd: no builder named "nope".*\(SHEPHERD_E_NOT_FOUND\)\n$/);
  });

  it('names the master and --master when it cannot be reached', async () => {
    expect(await shepherd('builds', '--master', 'http://127.0.0.1:1')).toBe(1);
    expect(stderr.join('')).toMatch(/^shepherd: cannot reach the master at http:\/\/127\.0\.0\.1:1 .*--master/);
  });

  it('--wait follows the request through a RETRY and prints the final build as JSON; exit 0 on SUCCESS', async () => {
    const queued = control.events.once('build:queued');
    const cli = shepherd('force', 'unix-tests', '--wait', '--json', '--token', TEST_TOKEN, ...client);
    const { request } = await queued;
    await control.connect('linux-1');
    const first = await control.buildStarted(request.id);
    await control.nextStep(first.id);
    // The agent restarts: back without its running step, so the build ends RETRY and the request is queued again.
    const retried = control.buildFinished(first.id);
    control.disconnect('linux-1', 'agent restarted');
    await control.connect('linux-1');
    expect((await retried).result).toBe('RETRY');
    const final = await runBuild((await control.store.getRequest(request.id))!, 'SUCCESS');
    expect(await cli).toBe(0);
    const printed = JSON.parse(out());
    expect(printed).toMatchObject({ id: final.id, number: final.number, builder: 'unix-tests', result: 'SUCCESS' });
    expect(printed.steps).toHaveLength(3);
    const progress = stderr.join('');
    expect(progress).toContain(`request ${request.id} queued for unix-tests`);
    expect(progress).toContain(`build unix-tests #${final.number - 1} started on linux-1`);
    expect(progress).toContain(`ended RETRY; request ${request.id} is queued again`);
    expect(progress).toContain('  compile: SUCCESS (1.2s)');
    expect(progress).toContain(`build unix-tests #${final.number} finished: SUCCESS`);
  });

  it('--wait exits 1 when the build fails, with a step table for people', async () => {
    const queued = control.events.once('build:queued');
    const cli = shepherd('force', 'unix-tests', '--wait', '--token', TEST_TOKEN, ...client);
    const build = await runBuild((await queued).request, 'FAILURE');
    expect(await cli).toBe(1);
    expect(out()).toContain('#  STEP       RESULT   DURATION  EXIT');
    expect(out()).toContain(`unix-tests #${build.number} (build ${build.id}): FAILURE in`);
  });

  it('--wait exits 1 when the request is cancelled before it starts', async () => {
    const queued = control.events.once('build:queued');
    const cli = shepherd('force', 'unix-tests', '--wait', '--token', TEST_TOKEN, ...client);
    await control.cancelRequest((await queued).request.id);
    expect(await cli).toBe(1);
    expect(stderr.join('')).toContain('was cancelled before it started');
  });
});

describe('reading', () => {
  let build: Build;
  const binary = Buffer.from([0xff, 0x00, 0x0a, 0xc3]);
  beforeAll(async () => {
    const request = await control.force({ builder: 'unix-tests', properties: {}, reason: 'r', submittedBy: null });
    build = await runBuild(request, 'SUCCESS', { compile: binary });
  });

  it('builds: a table, or the API JSON', async () => {
    expect(await shepherd('builds', '--builder', 'unix-tests', '--limit', '50', ...client)).toBe(0);
    expect(out()).toMatch(/^ID +BUILDER +NUMBER +RESULT +REVISION +WORKER +STARTED +DURATION\n/);
    expect(out()).toContain(`#${build.number}`);
    stdout = [];
    expect(await shepherd('builds', '--json', '--result', 'SUCCESS', ...client)).toBe(0);
    const page = JSON.parse(out());
    expect(page.builds.map((b: { id: number }) => b.id)).toContain(build.id);
    expect(page).toHaveProperty('next');
  });

  it('log --step writes exactly the bytes of the step', async () => {
    expect(await shepherd('log', String(build.id), '--step', 'compile', ...client)).toBe(0);
    expect(Buffer.concat(stdout)).toEqual(Buffer.concat([Buffer.from('compile output\n'), binary]));
  });

  it('log without --step prints every step with a header on stderr', async () => {
    expect(await shepherd('log', String(build.id), ...client)).toBe(0);
    expect(out()).toMatch(/^configure output\ncompile output\n[^]*test output\n$/);
    expect(stderr.filter((l) => l.startsWith('==> '))).toHaveLength(3);
    expect(stderr[0]).toBe(`==> unix-tests #${build.number} step 0 configure: SUCCESS\n`);
  });

  it('workers: a table', async () => {
    await control.connect('linux-1');
    expect(await shepherd('workers', ...client)).toBe(0);
    expect(out()).toMatch(/^NAME +STATE +BUILDS +OS\/ARCH +ADMIN +LAST SEEN +UPTIME 7D +SOURCE +MAINTENANCE\nlinux-1 +idle +0\/1 +linux\/x86_64 +ops <ops@example.org> +now +\d+% +config\n/);
  });

  it('cancel: a finished build is a conflict', async () => {
    expect(await shepherd('cancel', String(build.id), '--token', TEST_TOKEN, ...client)).toBe(1);
    expect(stderr.join('')).toContain('(SHEPHERD_E_CONFLICT)');
  });

  it('cancel --request cancels a queued request', async () => {
    const request = await control.force({ builder: 'mac-build', properties: {}, reason: 'r', submittedBy: null });
    expect(await shepherd('cancel', '--request', String(request.id), '--token', TEST_TOKEN, ...client)).toBe(0);
    expect(out()).toBe(`request ${request.id} cancelled\n`);
  });
});

describe('check-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-check-'));

  it('says OK with the counts', async () => {
    const file = join(dir, 'good.yml');
    writeFileSync(file, 'workers:\n  - { name: w1, secret_env: W1 }\nbuilders:\n  - { name: b, workers: [w1], steps: [{ name: s, run: make }] }\n');
    expect(await shepherd('check-config', file)).toBe(0);
    expect(out()).toBe(`${file}: OK (1 workers, 1 builders)\n`);
  });

  it('lists every problem on stderr, exit 1', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'workers:\n  - { name: w1 }\nbuilders:\n  - { name: b, workers: [nobody], steps: [] }\n');
    expect(await shepherd('check-config', file)).toBe(1);
    expect(stderr.length).toBeGreaterThanOrEqual(2);
    expect(stderr.join('')).toContain('secret_env');
    for (const line of stderr) expect(line.startsWith(`${file}: `)).toBe(true);
    expect(out()).toBe('');
  });
});
