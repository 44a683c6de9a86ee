/**
 * `shepherd try`, `force --scheduler` and `schedulers` against a real master:
 * the test control's coordinator and store, the real scheduler service and
 * HTTP server on 127.0.0.1, with patches taken from files and from a real git
 * checkout with an upstream.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../master/api/server.js';
import { createTestControl, TEST_CONFIG, TEST_TOKEN, type TestControl } from '../../master/api/test-control.js';
import type { Build, BuildRequest } from '../../master/domain.js';
import { SchedulerService } from '../../master/schedulers/scheduler-service.js';
import { captureCli } from '../capture-cli.js';

const CONFIG = {
  ...TEST_CONFIG,
  changes: [{ name: 'hello', git: 'https://example.org/hello.git', branches: ['main'] }],
  schedulers: [
    {
      name: 'manual',
      builders: ['unix-tests', 'mac-build'],
      force: {
        params: {
          verbose: { type: 'boolean' },
          target: { type: 'choice', choices: ['debug', 'release'], default: 'debug' },
        },
      },
    },
    { name: 'patches', builders: ['unix-tests', 'mac-build'], try: {} },
  ],
};

const PATCH = 'diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+two\n';

const gitEnv = {
  ...process.env,
  LC_ALL: 'C',
  GIT_AUTHOR_NAME: 'Ada',
  GIT_AUTHOR_EMAIL: 'ada@example.org',
  GIT_COMMITTER_NAME: 'Ada',
  GIT_COMMITTER_EMAIL: 'ada@example.org',
  GIT_CONFIG_NOSYSTEM: '1',
};

let control: TestControl;
let schedulers: SchedulerService;
let app: FastifyInstance;
let client: string[];
let dir: string;

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  schedulers = new SchedulerService({
    config: control.config,
    store: control.store,
    events: control.events,
    clock: control.clock,
    logger: pino({ level: 'silent' }),
    submit: (input) => control.force(input),
  });
  await schedulers.start();
  app = await createHttpServer(control, {
    logger: false,
    registry: new Registry(),
    onWorkerSocket: (s) => s.close(),
    schedulers,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  client = ['--master', `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, '--token', TEST_TOKEN];
  dir = mkdtempSync(join(tmpdir(), 'shepherd-try-cli-'));
});
afterAll(async () => {
  await app.close();
  await schedulers.stop();
  await control.close();
  rmSync(dir, { recursive: true, force: true });
});


const { shepherd, out, err, clearOut, clearErr, errWrites } = captureCli();

/** Writes a patch file and returns its path. */
function patchFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** The worker that can run `builder` connects and runs the request's build: every step succeeds, or `test` fails. */
async function runBuild(request: Pick<BuildRequest, 'id' | 'builder'>, result: 'SUCCESS' | 'FAILURE'): Promise<Build> {
  const worker = request.builder === 'mac-build' ? 'mac-1' : 'linux-1';
  if (!control.connection(worker)) {
    await control.connect(worker, worker === 'mac-1' ? { os: 'macos', arch: 'arm64' } : {});
  }
  const started = await control.buildStarted(request.id);
  return control.runBuild(started.id, (step) => ({
    exit_code: result === 'FAILURE' && step.name === (request.builder === 'mac-build' ? 'build' : 'test') ? 1 : 0,
  }));
}

/** Resolves with the next `count` requests the master queues. */
function nextQueued(count: number): Promise<BuildRequest[]> {
  return new Promise((resolve) => {
    const seen: BuildRequest[] = [];
    const off = control.events.on('build:queued', ({ request }) => {
      seen.push(request);
      if (seen.length === count) {
        off();
        resolve(seen);
      }
    });
  });
}

describe('schedulers', () => {
  it('lists kind, builders and force parameters; --json is the API answer', async () => {
    expect(await shepherd('schedulers', ...client)).toBe(0);
    const lines = out().split('\n');
    expect(lines[0]).toMatch(/^NAME {5}KIND {3}BUILDERS {14}PARAMS +NEXT RUN$/);
    expect(lines.slice(1)).toEqual([
      'manual   force  unix-tests,mac-build  verbose:boolean=false target:debug|release=debug',
      'patches  try    unix-tests,mac-build',
      '',
    ]);
    clearOut();
    expect(await shepherd('schedulers', '--json', ...client)).toBe(0);
    const { schedulers: list } = JSON.parse(out());
    expect(list.map((s: { name: string; kind: string }) => [s.name, s.kind])).toEqual([
      ['manual', 'force'],
      ['patches', 'try'],
    ]);
  });
});

describe('force --scheduler', () => {
  it('queues through the force scheduler with its parameters', async () => {
    expect(
      await shepherd('force', 'unix-tests', '--scheduler', 'manual', '--param', 'verbose=true', '--param', 'target=release', '--reason', 'why', '--queued', ...client),
    ).toBe(0);
    const request = await control.store.getRequest(Number(out().trim()));
    expect(request).toMatchObject({ builder: 'unix-tests', scheduler: 'manual', properties: { target: 'release' } });
    expect(request?.reason).toContain('why');
    await control.cancelRequest(request!.id);
  });

  it('--wait follows the scheduler-queued build to its result', async () => {
    const queued = nextQueued(1);
    const cli = shepherd('force', 'mac-build', '--scheduler', 'manual', '--wait', '--json', ...client);
    const build = await runBuild((await queued)[0]!, 'SUCCESS');
    expect(await cli).toBe(0);
    expect(JSON.parse(out())).toMatchObject({ id: build.id, builder: 'mac-build', result: 'SUCCESS' });
    control.disconnect('mac-1');
  });

  it('reports a bad parameter as the master names it, exit 1', async () => {
    expect(await shepherd('force', 'unix-tests', '--scheduler', 'manual', '--param', 'target=fast', '--queued', ...client)).toBe(1);
    expect(errWrites()).toHaveLength(1);
    expect(errWrites()[0]).toMatch(/^shepherd: .*target.*\(SHEPHERD_E_[A-Z_]+\)\n$/);
  });

  it('refuses flags that belong to the other way of forcing (usage, exit 2)', async () => {
    expect(await shepherd('force', 'unix-tests', '--param', 'verbose=true', ...client)).toBe(2);
    expect(await shepherd('force', 'unix-tests', '--scheduler', 'manual', '--prop', 'x=1', ...client)).toBe(2);
    expect(await shepherd('force', 'unix-tests', '--scheduler', 'manual', '--priority', '3', ...client)).toBe(2);
    expect(await shepherd('force', 'unix-tests', '--scheduler', 'manual', '--param', 'bad.name=1', ...client)).toBe(2);
    expect(errWrites()).toHaveLength(4);
    expect(errWrites()[0]).toMatch(/^shepherd: --param needs --scheduler NAME/);
    for (const line of errWrites()) expect(line).toMatch(/^shepherd: [^\n]+\n$/);
  });
});

describe('try', () => {
  it('--diff FILE uploads the file, applying on the branch head, and prints the request ids', async () => {
    const file = patchFile('fix.patch', PATCH);
    expect(await shepherd('try', '--builder', 'unix-tests', '-b', 'mac-build', '--diff', file, '--who', 'Bob <bob@example.org>', '--comment', 'fix a', ...client)).toBe(0);
    const ids = out().trim().split('\n').map(Number);
    expect(ids).toHaveLength(2);
    const requests = await Promise.all(ids.map((id) => control.store.getRequest(id)));
    expect(requests.map((r) => r?.builder)).toEqual(['unix-tests', 'mac-build']);
    const patch = await control.store.getPatch(requests[0]!.patchId!);
    expect(patch).toMatchObject({ baseRevision: '', branch: 'main', author: 'Bob <bob@example.org>', comment: 'fix a', source: 'hello' });
    expect(patch?.data.toString()).toBe(PATCH);
    expect(requests[1]?.patchId).toBe(patch?.id);
    expect(err()).toMatch(new RegExp(`^sending ${PATCH.length} B from .*fix\\.patch, to apply on the branch head\\npatch ${patch?.id} queued for unix-tests \\(request ${ids[0]}\\), mac-build \\(request ${ids[1]}\\)\\n$`));
    for (const id of ids) await control.cancelRequest(id);
  });

  it("by default sends the checkout's diff against its upstream, from git's user", async () => {
    const origin = join(dir, 'origin.git');
    const work = join(dir, 'work');
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', origin], { env: gitEnv });
    execFileSync('git', ['init', '-q', '-b', 'main', work], { env: gitEnv });
    writeFileSync(join(work, 'a.txt'), 'one\n');
    for (const args of [['remote', 'add', 'origin', origin], ['add', 'a.txt'], ['commit', '-q', '-m', 'first'], ['push', '-q', '-u', 'origin', 'main']]) {
      execFileSync('git', args, { cwd: work, env: gitEnv });
    }
    execFileSync('git', ['config', 'user.name', 'Grace'], { cwd: work });
    execFileSync('git', ['config', 'user.email', 'grace@example.org'], { cwd: work });
    const base = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: work, encoding: 'utf8' }).trim();
    writeFileSync(join(work, 'a.txt'), 'two\n');

    const cwd = process.cwd();
    process.chdir(work);
    try {
      expect(await shepherd('try', '--builder', 'unix-tests', '--json', ...client)).toBe(0);
    } finally {
      process.chdir(cwd);
    }
    const answer = JSON.parse(out());
    expect(answer.patch).toMatchObject({ base_revision: base, branch: 'main', author: 'Grace <grace@example.org>' });
    expect(answer.requests).toHaveLength(1);
    const stored = await control.store.getPatch(answer.patch.id);
    expect(stored?.data.toString()).toContain('-one\n+two\n');
    await control.cancelRequest(answer.requests[0].id);
  });

  it('--wait follows every build and exits 1 unless all succeeded', async () => {
    const file = patchFile('wait.patch', PATCH);
    const queued = nextQueued(2);
    const cli = shepherd('try', '-b', 'unix-tests', '-b', 'mac-build', '--diff', file, '--who', 'Bob <bob@example.org>', '--wait', ...client);
    const [linux, mac] = await queued;
    const [good, bad] = await Promise.all([runBuild(linux!, 'SUCCESS'), runBuild(mac!, 'FAILURE')]);
    expect(await cli).toBe(1);
    expect(out()).toContain(`unix-tests #${good.number} (build ${good.id}): SUCCESS in`);
    expect(out()).toContain(`mac-build #${bad.number} (build ${bad.id}): FAILURE in`);
    expect(err()).toContain(`build mac-build #${bad.number} finished: FAILURE`);
    expect(err()).toContain('  [unix-tests] configure: SUCCESS');
    control.disconnect('linux-1');
    control.disconnect('mac-1');
  });

  it('--wait --json prints the patch and every final build; exit 0 when all succeeded', async () => {
    const queued = nextQueued(1);
    const cli = shepherd('try', '-b', 'unix-tests', '--diff', patchFile('ok.patch', PATCH), '--who', 'Bob', '--wait', '--json', ...client);
    const build = await runBuild((await queued)[0]!, 'SUCCESS');
    expect(await cli).toBe(0);
    const printed = JSON.parse(out());
    expect(printed.patch.author).toBe('Bob');
    expect(printed.builds).toMatchObject([{ id: build.id, result: 'SUCCESS' }]);
    expect(printed.cancelled).toEqual([]);
    control.disconnect('linux-1');
  });

  it('refuses an empty patch, a missing --builder, and reports what the master refuses', async () => {
    expect(await shepherd('try', '-b', 'unix-tests', '--diff', patchFile('empty.patch', ''), ...client)).toBe(1);
    expect(err()).toMatch(/^shepherd: nothing to try: .*empty\.patch is empty\n$/);
    clearErr();
    expect(await shepherd('try', '--diff', patchFile('x.patch', PATCH), ...client)).toBe(2);
    expect(err()).toMatch(/^shepherd: .*--builder/);
    clearErr();
    expect(await shepherd('try', '-b', 'unix-tests', '--diff', patchFile('prose.patch', 'not a diff\n'), '--who', 'Bob', ...client)).toBe(1);
    expect(err()).toMatch(/not a diff.*\(SHEPHERD_E_PATCH\)\n$/);
  });
});
