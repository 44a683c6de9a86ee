/**
 * Debian's buildbot-worker 3.7, unmodified, against Shepherd's Buildbot
 * listener and the real coordinator over SQLite: it connects with its
 * password (a wrong one is refused), shows its `info/admin` as its contact,
 * runs passing and failing shell steps whose logs are byte-identical to the
 * same build on a Shepherd agent, is interrupted by a cancel, sends
 * artifacts to the upload sink, and checks out a real git repository,
 * handing `got_revision` back as a build property.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildbotConnection } from '../src/master/buildbot/connection.js';
import { startBuildbotListener, type BuildbotListener } from '../src/master/buildbot/listener.js';
import type { StepCommand, StepOutcome } from '../src/protocol/index.js';
import { systemClock } from '../src/master/clock.js';
import { parseConfig } from '../src/master/config/load.js';
import type { Build, Step } from '../src/master/domain.js';
import { MasterEventBus } from '../src/master/events.js';
import { Coordinator } from '../src/master/builds/coordinator.js';
import { UploadSink } from '../src/master/files/upload-sink.js';
import { openStore } from '../src/master/store/open-store.js';
import type { Store } from '../src/master/store/store.js';
import { TestWorker } from '../src/master/workers/test-worker.js';
import type { WorkerVerdict } from '../src/master/workers/credentials.js';
import { systemClock as agentClock } from '../src/worker/clock.js';
import { OutputSequencer } from '../src/worker/output-sequencer.js';
import { runStep } from '../src/worker/step-runner.js';
import { SAMPLE, createBuildbotWorker, startBuildbotWorker, type BuildbotWorkerProcess } from './helpers/buildbot-worker.js';
import { TestRepo } from '../src/master/changes/test-repo.js';
import { tempDir, waitFor } from './helpers/farm.js';

const PASSWORD = 'bb-password-1';

/**
 * The sample build: both streams, a blank line, UTF-8, a long line, a last
 * line without its newline, and the step's own directory. The short sleeps
 * keep the order in which the two pipes are read the same on both kinds of
 * worker (each reads stdout and stderr separately).
 */

function config(repository: string) {
  const sample = [{ name: 'sample', run: SAMPLE, env: { GREETING: 'hi there' } }];
  const failing = [{ name: 'failing', run: 'echo "about to fail"; echo "error: it broke" >&2; exit 3' }];
  return {
    master: { api_token_env: 'UNUSED' },
    workers: [
      { name: 'bb', secret_env: 'BB', dimensions: { os: 'linux', arch: 'x86_64' } },
      { name: 'agent-1', secret_env: 'A1', dimensions: { os: 'linux', arch: 'x86_64' } },
    ],
    changes: [{ name: 'proj', git: repository, branches: ['main'] }],
    builders: [
      { name: 'sample', workers: ['bb'], steps: sample },
      { name: 'sample-on-agent', workers: ['agent-1'], steps: sample },
      { name: 'failing', workers: ['bb'], steps: failing },
      { name: 'failing-on-agent', workers: ['agent-1'], steps: failing },
      { name: 'slow', workers: ['bb'], steps: [{ name: 'sleep', run: 'echo started; sleep 60; echo never' }] },
      {
        name: 'artifacts',
        workers: ['bb'],
        steps: [{
          name: 'make',
          run: 'mkdir -p out/sub && printf "artifact one\\n" > out/a.txt && printf "two" > out/sub/b.txt && head -c 5000 /dev/zero > out/big.txt && echo made',
          artifacts: { globs: ['out/**/*.txt'], max_file: '4KB' },
        }],
      },
      {
        name: 'tree',
        workers: ['bb'],
        steps: [{
          name: 'make',
          run: [
            'mkdir -p out/sub/deep out/empty-dir',
            'printf "top\\n" > out/top.txt',
            'printf "\\000\\001\\377binary" > out/sub/raw.bin',
            'seq 1 400 > out/sub/deep/numbers.txt',
            ': > out/sub/deep/empty',
            'head -c 6000 /dev/urandom > out/sub/huge.bin',
            'head -c 3000 /dev/urandom > out/.hidden',
            'echo made',
          ].join(' && '),
          artifacts: { globs: ['out/**'], max_file: '4KB' },
        }],
      },
      {
        name: 'checkout',
        workers: ['bb'],
        steps: [
          { name: 'checkout', checkout: { source: 'proj' } },
          { name: 'show', run: 'cat greeting.txt; echo "built ${{ props.got_revision }}"' },
        ],
      },
    ],
  };
}

let root: string;
let store: Store;
let events: MasterEventBus;
let coordinator: Coordinator;
let listener: BuildbotListener;
let worker: BuildbotWorkerProcess;
let agent: TestWorker;
let head: string;
/** Steps numbered from here are the tests' own, started on the connection directly (the coordinator knows nothing of them). */
const DIRECT_STEP = 1_000_000;
/** What the connection reported for direct steps: output bytes and the end. */
const direct = new Map<number, { output: Buffer[]; seqs: number[]; finished?: { lastSeq: number; outcome: StepOutcome; properties: Record<string, string> } }>();
let connection: BuildbotConnection;
/** Every verdict the listener's verify returned, for the refusal test. */
const verdicts: { name: string; verdict: WorkerVerdict }[] = [];

/** A bare repository with one commit on main (tests' own git helper); returns its file:// URL. */
async function makeRepository(): Promise<string> {
  const repo = await TestRepo.create();
  head = await repo.commit('first', { 'greeting.txt': 'hello from git\n' });
  await repo.push('main');
  return pathToFileURL(repo.origin).href;
}

async function readLog(stepId: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of coordinator.readLog(stepId, 0)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function finishedBuild(requestId: number, timeoutMs = 60_000): Promise<Build> {
  return waitFor(`build of request ${requestId} to finish`, async () => {
    const request = await store.getRequest(requestId);
    const build = request?.buildId != null ? await store.getBuild(request.buildId) : undefined;
    return build?.state === 'finished' ? build : undefined;
  }, timeoutMs);
}

/** Forces a build of `builder` and waits for its end; returns it with its steps and their logs. */
async function runBuild(builder: string): Promise<{ build: Build; steps: Step[]; logs: string[] }> {
  const request = await coordinator.force({ builder, properties: {}, reason: 'test', submittedBy: 'test' });
  const build = await finishedBuild(request.id);
  const steps = await store.getSteps(build.id);
  const logs = await Promise.all(steps.map(async (s) => (await readLog(s.id)).toString('utf8')));
  return { build, steps, logs };
}

/**
 * Plays the Shepherd agent for `agent-1`: each step it is sent runs through
 * the agent's own step runner and output sequencer, and its chunks and end
 * go to the coordinator as the agent's frames would.
 */
async function serveAgentSteps(): Promise<void> {
  const served = new Set<number>();
  for (;;) {
    const started = await agent.stepStarted((s) => !served.has(s.stepId));
    served.add(started.stepId);
    const dir = join(root, 'agent');
    let lastSeq = 0;
    const sequencer = new OutputSequencer({
      clock: agentClock,
      onChunk: (seq, _stream, data) => {
        lastSeq = seq;
        coordinator.output(agent, started.stepId, seq, data);
      },
    });
    const running = runStep(started.command, {
      dir,
      clock: agentClock,
      killGraceMs: 5_000,
      baseEnv: process.env,
      stepDir: join(dir, '.shepherd', 'steps', String(started.stepId)),
      onOutput: (stream, data) => sequencer.write(stream, data),
    });
    const outcome = await running.done;
    sequencer.flush();
    coordinator.stepFinished(agent, started.stepId, lastSeq, outcome, { ...running.properties });
  }
}

beforeAll(async () => {
  root = tempDir('shepherd-buildbot-');
  const parsed = parseConfig(config(await makeRepository()), 'test.yml', root);
  store = await openStore('sqlite::memory:');
  events = new MasterEventBus((event, error) => {
    throw new Error(`listener of ${event} failed: ${String(error)}`);
  });
  const logger = pino({ level: 'silent' });
  const uploads = new UploadSink({
    store,
    dataDir: join(root, 'data'),
    clock: systemClock,
    logger,
    maxFileBytes: parsed.master.artifacts.max_file,
    maxBuildBytes: parsed.master.artifacts.max_build,
  });
  coordinator = new Coordinator({
    config: parsed,
    store,
    events,
    clock: systemClock,
    logger,
    apiToken: null,
    workerSecrets: new Map([['bb', PASSWORD], ['agent-1', 'agent-secret']]),
    uploads,
  });
  await coordinator.recover();
  listener = await startBuildbotListener({
    host: '127.0.0.1',
    port: 0,
    verify: (name, password) => {
      const verdict = coordinator.verifyWorker(name, password);
      verdicts.push({ name, verdict });
      return verdict;
    },
    isBuildbotWorker: (name) => name === 'bb',
    // The coordinator, except for the tests' direct steps, which are recorded.
    handler: {
      attach: (worker, held) => coordinator.attach(worker, held),
      detach: (worker, reason) => coordinator.detach(worker, reason),
      output(worker, stepId, seq, data) {
        if (stepId < DIRECT_STEP) return coordinator.output(worker, stepId, seq, data);
        direct.get(stepId)!.output.push(data);
        direct.get(stepId)!.seqs.push(seq);
      },
      stepFinished(worker, stepId, lastSeq, outcome, properties) {
        if (stepId < DIRECT_STEP) return coordinator.stepFinished(worker, stepId, lastSeq, outcome, properties);
        direct.get(stepId)!.finished = { lastSeq, outcome, properties };
      },
    },
    onConnection: (c) => (connection = c),
    clock: systemClock,
    logger,
    keepaliveMs: 2_000,
    sink: uploads,
    sigtermSeconds: 2,
  });
  agent = new TestWorker('agent-1');
  await coordinator.attach(agent, []);
  void serveAgentSteps();

  const dir = createBuildbotWorker({ dir: join(root, 'bb'), port: listener.port, name: 'bb', password: PASSWORD });
  worker = startBuildbotWorker(dir);
  worker.process.shareAcrossTests();
  await waitFor('buildbot worker bb to connect', async () => {
    const bb = (await coordinator.workers()).find((w) => w.name === 'bb');
    if (!worker.process.running) throw new Error(`buildbot-worker exited:\n${worker.process.stderr}\n${worker.log().slice(-3000)}`);
    return bb?.connected ? bb : undefined;
  }, 30_000);
});

afterAll(async () => {
  await worker?.stop();
  await listener?.close();
  await coordinator?.stop();
  await store?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

/** Runs `command` on the connection as step `stepId`, outside any build; resolves with what came back. */
async function runDirect(stepId: number, command: Partial<StepCommand>) {
  direct.set(stepId, { output: [], seqs: [] });
  connection.startStep(stepId, 1, { run: 'true', env: {}, workdir: '.', builder_dir: 'direct', timeout_ms: 0, max_time_ms: 0, ...command });
  const finished = await waitFor(`direct step ${stepId} to finish`, () => direct.get(stepId)!.finished, 30_000);
  return { ...finished, log: Buffer.concat(direct.get(stepId)!.output).toString('utf8'), seqs: direct.get(stepId)!.seqs };
}

/** The first directory named `name` under `root` for which `accept` holds (depth-first). */
function findDir(root: string, name: string, accept: (dir: string) => boolean): string {
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const path = join(root, entry.name);
    if (entry.name === name && accept(path)) return path;
    try {
      return findDir(path, name, accept);
    } catch {
      // not below this one
    }
  }
  throw new Error(`no directory ${name} under ${root}`);
}

describe('Debian buildbot-worker 3.7 on the msgpack protocol', () => {
  it('connects with its password; its info/admin is the contact, its os-release the dimensions', async () => {
    const bb = (await coordinator.workers()).find((w) => w.name === 'bb')!;
    expect(bb.connected).toBe(true);
    expect(bb.protocol).toBe('buildbot');
    expect(bb.admins).toEqual(['Grace Hopper <grace@example.org>']);
    expect(bb.info?.hostname).toBe('a Debian test box');
    expect(bb.info?.agent_version).toMatch(/^buildbot-worker 3\.7/);
    expect(bb.dimensions).toMatchObject({ os: 'linux', arch: 'x86_64' });
    expect(verdicts).toContainEqual({ name: 'bb', verdict: 'ok' });
  });

  it('runs a passing step to SUCCESS with a log byte-identical to the same build on a Shepherd agent', async () => {
    const [onBuildbot, onAgent] = await Promise.all([runBuild('sample'), runBuild('sample-on-agent')]);
    expect(onBuildbot.build.result).toBe('SUCCESS');
    expect(onAgent.build.result).toBe('SUCCESS');
    expect(onBuildbot.logs[0]).toContain('configure: ok\nwarning: something\nhéllo wörld\n\n');
    expect(onBuildbot.logs[0]).toContain('step dir: yes\nGREETING=hi there\nno newline at the end');
    expect(onBuildbot.logs[0]!.endsWith('no newline at the end')).toBe(true);
    expect(onBuildbot.logs[0]).toBe(onAgent.logs[0]);
  });

  it('runs a failing step to FAILURE with its exit code, and the same log as on an agent', async () => {
    const [onBuildbot, onAgent] = await Promise.all([runBuild('failing'), runBuild('failing-on-agent')]);
    expect(onBuildbot.build.result).toBe('FAILURE');
    expect(onBuildbot.steps[0]!.result).toBe('FAILURE');
    expect(onBuildbot.steps[0]!.summary).toBe('exit code 3');
    expect(onBuildbot.logs[0]).toBe('about to fail\nerror: it broke\n');
    expect(onBuildbot.logs[0]).toBe(onAgent.logs[0]);
  });

  it('cancel interrupts the running command on the worker', async () => {
    const request = await coordinator.force({ builder: 'slow', properties: {}, reason: 'test', submittedBy: 'test' });
    const running = await waitFor('the slow step to print', async () => {
      const req = await store.getRequest(request.id);
      if (req?.buildId == null) return undefined;
      const [step] = await store.getSteps(req.buildId);
      return step && (await readLog(step.id)).toString().includes('started') ? { buildId: req.buildId, step } : undefined;
    });
    const cancelledAt = Date.now();
    await coordinator.cancelBuild(running.buildId, 'test cancel');
    const build = await finishedBuild(request.id);
    expect(build.result).toBe('CANCELLED');
    expect(Date.now() - cancelledAt).toBeLessThan(20_000);
    const log = (await readLog(running.step.id)).toString();
    expect(log).toContain('started\n[shepherd] cancelled: test cancel: interrupting the command on the Buildbot worker\n');
    expect(log).not.toContain('never');
    await worker.waitForLog(/asked to interrupt current command: test cancel/);
  });

  it('stores collected artifacts through the upload sink, within the limits', async () => {
    const { build, steps, logs } = await runBuild('artifacts');
    expect(build.result, logs[0]).toBe('SUCCESS');
    const files = await store.listStepFiles({ stepId: steps[0]!.id });
    const byName = new Map(files.map((f) => [f.name, f]));
    expect([...byName.keys()].sort()).toEqual(['out/a.txt', 'out/big.txt', 'out/sub/b.txt']);
    expect(byName.get('out/a.txt')!.size).toBe(13);
    expect(byName.get('out/sub/b.txt')!.size).toBe(3);
    expect(byName.get('out/big.txt')!.path).toBeNull();
    expect(byName.get('out/big.txt')!.skipped).toMatch(/larger than the limit of 4 KiB per file/);
    const stored = byName.get('out/a.txt')!;
    expect(stored.kind).toBe('artifact');
    expect(readFileSync(join(root, 'data', stored.path!), 'utf8')).toBe('artifact one\n');
    expect(readFileSync(join(root, 'data', byName.get('out/sub/b.txt')!.path!), 'utf8')).toBe('two');
    expect(logs[0]).toContain('[shepherd] artifacts: sending 2 file(s), skipping 1\n');
  });

  it('collects a whole tree (out/**) with one upload_directory: the same names, bytes and skips as file by file', async () => {
    const commands = (name: string) => worker.log().split(name).length - 1;
    const [directoriesBefore, filesBefore] = [commands('WorkerDirectoryUploadCommand'), commands('WorkerFileUploadCommand')];
    const { build, steps, logs } = await runBuild('tree');
    expect(build.result, logs[0]).toBe('SUCCESS');
    // One archive of out/, and not one upload_file (there is no properties file either).
    expect(commands('WorkerDirectoryUploadCommand') - directoriesBefore, worker.log().slice(-3000)).toBeGreaterThan(0);
    expect(commands('WorkerFileUploadCommand') - filesBefore).toBe(0);
    const files = await store.listStepFiles({ stepId: steps[0]!.id });
    const byName = new Map(files.map((f) => [f.name, f]));
    expect(files.map((f) => f.name)).toEqual(['out/.hidden', 'out/sub/deep/empty', 'out/sub/deep/numbers.txt', 'out/sub/huge.bin', 'out/sub/raw.bin', 'out/top.txt']);
    const workdir = findDir(join(root, 'bb'), 'out', (dir) => existsSync(join(dir, 'sub', 'huge.bin')));
    for (const name of ['out/.hidden', 'out/sub/deep/empty', 'out/sub/deep/numbers.txt', 'out/sub/raw.bin', 'out/top.txt']) {
      const stored = byName.get(name)!;
      expect(stored.skipped, name).toBeNull();
      expect(readFileSync(join(root, 'data', stored.path!)), name).toEqual(readFileSync(join(workdir, '..', name)));
    }
    const huge = byName.get('out/sub/huge.bin')!;
    expect(huge.path).toBeNull();
    expect(huge.size).toBe(6000);
    expect(huge.skipped).toBe('larger than the limit of 4 KiB per file');
    expect(logs[0]).toContain('[shepherd] artifacts: sending 5 file(s), skipping 1\n[shepherd] artifacts: skipping out/sub/huge.bin (5.9 KiB): larger than the limit of 4 KiB per file\n');
  });

  it('checks out a real git repository and hands got_revision to the next step', async () => {
    const { build, steps, logs } = await runBuild('checkout');
    expect(build.result, logs.join('\n---\n')).toBe('SUCCESS');
    expect(build.properties.got_revision).toBe(head);
    expect(logs[0]).toContain('$ git init --quiet\n');
    expect(logs[1]).toBe(`hello from git\nbuilt ${head}\n`);
    expect(existsSync(join(root, 'bb', 'checkout', 'greeting.txt'))).toBe(true);
    // Released steps' own directories are removed, as the agent removes them.
    await waitFor('released step directories to go', () => (existsSync(join(root, 'bb', '.shepherd', 'steps', String(steps[0]!.id))) ? undefined : true));
    expect(steps.map((s) => s.result)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  it('writes the step\'s files into $SHEPHERD_STEP_DIR and reads properties as the agent does, reporting bad lines', async () => {
    const patch = Buffer.from('--- a\n+++ b\n\u00e9\0binary\n');
    const result = await runDirect(DIRECT_STEP + 1, {
      run: 'od -An -c "$SHEPHERD_STEP_DIR/patch.diff" | tr -s " " | head -c 200; echo\n' +
        'printf "got_revision=abc123\\nnot a property\\nversion=1.2\\n" > "$SHEPHERD_STEP_DIR/properties"',
      files: [{ name: 'patch.diff', data_base64: patch.toString('base64') }],
    });
    expect(result.outcome).toMatchObject({ exit_code: 0, signal: null, ended_by: null, spawn_error: null });
    const local = join(root, 'patch.diff');
    writeFileSync(local, patch);
    const expected = execFileSync('/bin/sh', ['-c', `od -An -c ${local} | tr -s " " | head -c 200; echo`], { encoding: 'utf8' });
    expect(result.log).toContain(expected);
    expect(result.properties).toEqual({ got_revision: 'abc123', version: '1.2' });
    expect(result.log).toContain("[shepherd] $SHEPHERD_STEP_DIR/properties line 2 is not NAME=value with a NAME of letters, digits, '_', '.' and '-'; it is ignored\n");
    // Sequence numbers from 1, without gaps; the last one is the step's lastSeq.
    expect(result.seqs).toEqual(result.seqs.map((_, i) => i + 1));
    expect(result.lastSeq).toBe(result.seqs.length);
  });

  it('a step with no output past its timeout is killed by the worker and reported as a timeout', async () => {
    const result = await runDirect(DIRECT_STEP + 2, { run: 'echo waiting; sleep 30', timeout_ms: 1_000 });
    expect(result.outcome).toMatchObject({ exit_code: null, ended_by: 'timeout', spawn_error: null });
    expect(result.outcome.signal).toMatch(/^SIG(TERM|KILL)$/);
    expect(result.outcome.duration_ms).toBeLessThan(10_000);
    expect(result.log).toMatch(/^waiting\n\[shepherd\] no output for too long: the Buildbot worker killed the command \(command timed out: 1 seconds without output/);
  });

  it('a step whose workdir escapes the worker directory is not started', async () => {
    const result = await runDirect(DIRECT_STEP + 3, { workdir: '../../etc' });
    expect(result.outcome.spawn_error).toMatch(/workdir "..\/..\/etc" escapes the worker directory/);
    expect(result.log).toMatch(/^\[shepherd\] cannot start the step: workdir/);
  });

  it('refuses a wrong password, and a worker not configured for this protocol, at the upgrade with 401', async () => {
    const status = (name: string, password: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${listener.port}/`, { headers: { Authorization: `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}` } });
        ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.once('open', () => {
          ws.close();
          reject(new Error(`${name} was let in`));
        });
        ws.once('error', () => {});
      });
    expect(await status('bb', 'wrong')).toBe(401);
    expect(await status('agent-1', 'agent-secret')).toBe(401);
    expect(await status('nobody', 'x')).toBe(401);

    // The real worker with a wrong password: refused, never attached.
    const dir = createBuildbotWorker({ dir: join(root, 'bb-wrong'), port: listener.port, name: 'bb', password: 'not-the-password' });
    mkdirSync(join(dir, 'info'), { recursive: true });
    const wrong = startBuildbotWorker(dir);
    try {
      await waitFor('the wrong password to be refused', () => (verdicts.some((v) => v.name === 'bb' && v.verdict === 'wrong') ? true : undefined), 30_000);
      await wrong.waitForLog(/401/);
      const bb = (await coordinator.workers()).find((w) => w.name === 'bb')!;
      // Still the first worker's connection.
      expect(bb.connected).toBe(true);
      expect(bb.info?.hostname).toBe('a Debian test box');
    } finally {
      await wrong.stop();
    }
  });
});
