import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type StepCommand } from '../protocol/index.js';
import { startWorkerAgent, type WorkerAgent } from './agent.js';
import { FakeMaster, within, type FakeConnection } from './fake-master.js';
import { normalizeArch } from './info.js';
import type { AgentOptions } from './options.js';
import { processAlive } from './process-group.js';
import { readRunningRecord } from './running-groups.js';

let dir: string;
let master: FakeMaster;
let agents: WorkerAgent[];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-agent-'));
  master = await FakeMaster.start();
  agents = [];
});

afterEach(async () => {
  await Promise.all(agents.map((agent) => agent.stop()));
  await master.close();
  for (const connection of master.connections) expect(connection.protocolErrors).toEqual([]);
  rmSync(dir, { recursive: true, force: true });
});

/** The agent's log lines, with a way to wait for one. */
class Log {
  readonly lines: string[] = [];
  readonly #events = new EventEmitter();
  readonly logger = (line: string) => {
    this.lines.push(line);
    this.#events.emit('line');
  };

  waitFor(pattern: RegExp, ms = 15_000): Promise<string> {
    return within(
      new Promise<string>((resolve) => {
        const check = () => {
          const line = this.lines.find((l) => pattern.test(l));
          if (line) {
            this.#events.off('line', check);
            resolve(line);
          }
        };
        this.#events.on('line', check);
        check();
      }),
      ms,
      `a log line matching ${pattern}`,
    );
  }
}

function startAgent(overrides: Partial<AgentOptions> = {}): { agent: WorkerAgent; log: Log } {
  const log = new Log();
  const agent = startWorkerAgent({
    master: overrides.master ?? master.url,
    name: 'w1',
    secret: 'sesame',
    dir,
    killGraceMs: 1000,
    backoff: { initialMs: 50, maxMs: 200 },
    refusedBackoff: { initialMs: 100, maxMs: 100 },
    logger: log.logger,
    ...overrides,
  });
  agents.push(agent);
  return { agent, log };
}

/** Accepts the next connection, checks its hello and welcomes it. */
async function accept(resume: { step_id: number; acked_seq: number }[] = [], heartbeatMs = 10_000) {
  const connection = await master.nextConnection();
  const hello = await connection.next('hello');
  connection.welcome(resume, heartbeatMs);
  return { connection, hello };
}

function command(run: StepCommand['run'], extra: Partial<StepCommand> = {}): StepCommand {
  return { run, env: {}, workdir: '.', builder_dir: 'b', timeout_ms: 0, max_time_ms: 0, ...extra };
}

function startStep(connection: FakeConnection, stepId: number, cmd: StepCommand): void {
  connection.send({ type: 'start_step', step_id: stepId, build_id: 100 + stepId, command: cmd });
}

/** Waits until a process that is not our child is gone. */
async function gone(pid: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function spoolFiles(): string[] {
  const spool = join(dir, '.shepherd', 'spool');
  try {
    return readdirSync(spool, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name);
  } catch {
    return [];
  }
}

describe('worker agent', () => {
  it('says hello with its name, secret, machine info and held steps, then waits for welcome', async () => {
    const { agent } = startAgent({ admin: 'Ada <ada@example.org>', dimensions: { gpu: 'none' } });
    const connected = agent.connected();
    const connection = await master.nextConnection();
    expect(connection.path).toBe('/worker');
    const hello = await connection.next('hello');
    expect(hello).toMatchObject({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      name: 'w1',
      secret: 'sesame',
      held: [],
      info: {
        os: process.platform,
        arch: normalizeArch(process.arch),
        admin: 'Ada <ada@example.org>',
        dimensions: { os: process.platform, arch: normalizeArch(process.arch), gpu: 'none' },
      },
    });
    connection.welcome([], 100);
    await within(connected, 5000, 'connected()');
    // Heartbeats at the interval the master asked for.
    const beat = await connection.next('heartbeat');
    expect(typeof beat.t).toBe('number');
  });

  it('runs a step and reports its output and outcome', async () => {
    const { agent } = startAgent();
    const connected = agent.connected();
    const { connection } = await accept();
    await connected;
    startStep(connection, 1, command('echo hello; echo oops >&2; exit 3'));
    const finished = await connection.next('step_finished');
    expect(finished.outcome).toMatchObject({ exit_code: 3, signal: null, ended_by: null, spawn_error: null });
    const chunks = connection.outputOf(1);
    expect(chunks.map((c) => c.seq)).toEqual(chunks.map((_, i) => i + 1));
    expect(finished.last_seq).toBe(chunks.length);
    // Two pipes: which of them the agent reads first is up to the kernel.
    const streamText = (stream: string) => Buffer.concat(chunks.filter((c) => c.stream === stream).map((c) => c.data)).toString();
    expect([streamText('stdout'), streamText('stderr')]).toEqual(['hello\n', 'oops\n']);

    // Released steps are forgotten: the next hello holds nothing.
    connection.send({ type: 'ack', step_id: 1, seq: finished.last_seq });
    connection.send({ type: 'release', step_id: 1 });
    connection.send({ type: 'cancel', step_id: 1, reason: 'too late, and harmless' });
    connection.terminate();
    const { hello } = await accept();
    expect(hello.held).toEqual([]);
  });

  it("gives steps the agent's environment without the worker's secret", async () => {
    const { agent } = startAgent({ env: { PATH: process.env.PATH, SHEPHERD_WORKER_SECRET: 'sesame', KEEP: 'kept', OVERRIDE: 'agent' } });
    const connected = agent.connected();
    const { connection } = await accept();
    await connected;
    startStep(connection, 9, command('echo "${SHEPHERD_WORKER_SECRET:-unset} $KEEP $OVERRIDE"', { env: { OVERRIDE: 'step' } }));
    await connection.next('step_finished');
    expect(connection.textOf(9)).toBe('unset kept step\n');
  });

  it('reports a step that cannot start', async () => {
    const { agent } = startAgent();
    const connected = agent.connected();
    const { connection } = await accept();
    await connected;
    startStep(connection, 2, command(['no-such-program-shepherd'], { workdir: '../..' }));
    const finished = await connection.next('step_finished');
    expect(finished.outcome).toMatchObject({ exit_code: null, ended_by: null });
    expect(finished.outcome.spawn_error).toMatch(/workdir "\.\.\/\.\." escapes/);
    expect(connection.textOf(2)).toMatch(/^\[shepherd\] cannot start the step: workdir/);
  });

  it('keeps a step running across a lost connection and resends exactly what the master lacks', async () => {
    // A tiny memory budget, so the resent output comes back from spool files.
    const { agent, log } = startAgent({ spoolMemoryBytes: 64 });
    const connected = agent.connected();
    const first = (await accept()).connection;
    await connected;
    startStep(first, 3, command('i=1; while [ $i -le 60 ]; do echo "line $i"; i=$((i+1)); sleep 0.02; done'));
    await first.until(() => first.outputOf(3).length >= 5, 'five chunks');
    first.terminate();
    const stored = [...first.outputOf(3)];
    expect(stored.map((c) => c.seq)).toEqual(stored.map((_, i) => i + 1));
    const ackedSeq = stored.length;

    await log.waitFor(/connection to the master lost .*1 step\(s\) keep running; reconnecting in/);
    const second = await master.nextConnection();
    const hello = await second.next('hello');
    expect(hello.held).toHaveLength(1);
    expect(hello.held[0]!.step_id).toBe(3);
    expect(hello.held[0]!.last_seq).toBeGreaterThanOrEqual(ackedSeq);
    second.welcome([{ step_id: 3, acked_seq: ackedSeq }]);

    const finished = await second.next('step_finished');
    expect(finished.outcome).toMatchObject({ exit_code: 0, ended_by: null });
    const resent = second.outputOf(3);
    const seqs = resent.map((c) => c.seq);
    expect(seqs).toEqual(seqs.map((_, i) => ackedSeq + 1 + i));
    expect(finished.last_seq).toBe(seqs.at(-1));

    const text = Buffer.concat([...stored, ...resent].map((c) => c.data)).toString('utf8');
    expect(text).toBe(Array.from({ length: 60 }, (_, i) => `line ${i + 1}\n`).join(''));

    // Acknowledged output leaves the spool.
    expect(spoolFiles().length).toBeGreaterThan(0);
    second.send({ type: 'ack', step_id: 3, seq: finished.last_seq });
    second.send({ type: 'release', step_id: 3 });
    second.terminate();
    expect((await accept()).hello.held).toEqual([]);
    expect(spoolFiles()).toEqual([]);
  });

  it('resends a step that finished while the master was away, then its outcome', async () => {
    const { agent, log } = startAgent();
    const connected = agent.connected();
    const first = (await accept()).connection;
    await connected;
    startStep(first, 4, command('echo one; echo two'));
    first.terminate();
    // The agent is back, but we hold the welcome until the step has ended.
    const second = await master.nextConnection();
    await second.next('hello');
    await log.waitFor(/step 4 \(build 104\): exit 0/);
    second.terminate();

    const { connection: third, hello } = await accept([{ step_id: 4, acked_seq: 0 }]);
    expect(hello.held).toEqual([{ step_id: 4, last_seq: expect.any(Number), finished: expect.objectContaining({ exit_code: 0 }) }]);
    const finished = await third.next('step_finished');
    expect(finished.last_seq).toBe(hello.held[0]!.last_seq);
    expect(third.textOf(4)).toBe('one\ntwo\n');
    expect(third.outputOf(4).map((c) => c.seq)).toEqual(third.outputOf(4).map((_, i) => i + 1));
  });

  it('gives each step its own directory with the master files, and returns the properties it sets', async () => {
    const { agent } = startAgent();
    const connected = agent.connected();
    const { connection } = await accept();
    await connected;
    // 3 MB of patch: a start_step frame well over the 1 MiB limit of the other direction.
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const stepDir = join(dir, '.shepherd', 'steps', '21');
    startStep(
      connection,
      21,
      command('echo "$SHEPHERD_STEP_DIR"; cp "$SHEPHERD_STEP_DIR/try.patch" ../copy.bin; echo got_revision=abc123 >"$SHEPHERD_STEP_DIR/properties"', {
        files: [{ name: 'try.patch', data_base64: big.toString('base64') }],
      }),
    );
    const finished = await connection.next('step_finished');
    expect(finished.outcome).toMatchObject({ exit_code: 0 });
    expect(finished.properties).toEqual({ got_revision: 'abc123' });
    expect(connection.textOf(21)).toBe(`${stepDir}\n`);
    expect(readFileSync(join(dir, 'copy.bin')).equals(big)).toBe(true);
    expect(existsSync(stepDir)).toBe(true);

    // Released: the directory goes. (The next hello proves the release was handled.)
    connection.send({ type: 'release', step_id: 21 });
    connection.terminate();
    expect((await accept()).hello.held).toEqual([]);
    expect(existsSync(stepDir)).toBe(false);
  });

  it('sends the properties again when it resends the end of a step finished while the master was away', async () => {
    const { agent, log } = startAgent();
    const connected = agent.connected();
    const first = (await accept()).connection;
    await connected;
    startStep(first, 22, command('echo version=2.1 >"$SHEPHERD_STEP_DIR/properties"'));
    first.terminate();
    const second = await master.nextConnection();
    await second.next('hello');
    await log.waitFor(/step 22 \(build 122\): exit 0/);
    second.welcome([{ step_id: 22, acked_seq: 0 }]);
    const finished = await second.next('step_finished');
    expect(finished.properties).toEqual({ version: '2.1' });
  });

  it('removes the step directories an earlier agent left', async () => {
    const leftover = join(dir, '.shepherd', 'steps', '99');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 'try.patch'), 'old');
    startAgent();
    expect(existsSync(join(dir, '.shepherd', 'steps'))).toBe(false);
  });

  it('kills a held step the master no longer wants', async () => {
    const { agent, log } = startAgent();
    const connected = agent.connected();
    const first = (await accept()).connection;
    await connected;
    startStep(first, 5, command('echo "pid $$"; exec sleep 1000'));
    const pid = Number((await first.until(() => first.textOf(5).match(/pid (\d+)\n/), 'the pid'))[1]);
    first.terminate();

    const { connection: second, hello } = await accept([]);
    expect(hello.held).toEqual([{ step_id: 5, last_seq: 1 }]);
    await log.waitFor(/step 5: the master no longer wants it; ending its process group/);
    await gone(pid);
    second.terminate();
    expect((await accept()).hello.held).toEqual([]);
    expect(second.outputOf(5)).toEqual([]);
    expect(second.messages.filter((m) => m.type === 'step_finished')).toEqual([]);
  });

  it('cancels a step on request', async () => {
    const { agent } = startAgent();
    const connected = agent.connected();
    const { connection } = await accept();
    await connected;
    startStep(connection, 6, command('echo started; sleep 1000'));
    await connection.until(() => connection.textOf(6).includes('started\n'), 'the step to start');
    connection.send({ type: 'cancel', step_id: 6, reason: 'stopped by alice' });
    const finished = await connection.next('step_finished');
    expect(finished.outcome).toMatchObject({ exit_code: null, signal: 'SIGTERM', ended_by: 'cancel' });
    expect(connection.textOf(6)).toBe('started\n[shepherd] cancelled: stopped by alice: sending SIGTERM to the process group\n');
  });

  it('logs a refusal and keeps retrying, slowly', async () => {
    const { agent, log } = startAgent({ random: () => 0.5, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    const connected = agent.connected();
    const first = await master.nextConnection();
    await first.next('hello');
    first.send({ type: 'refused', code: 'SHEPHERD_E_WORKER_AUTH', message: 'unknown worker or wrong secret' });
    const line = await log.waitFor(/refused/);
    expect(line).toBe(
      'the master refused this worker: SHEPHERD_E_WORKER_AUTH: unknown worker or wrong secret ' +
        `(check that the name "w1" and the secret match the master's workers list); retrying in 50ms`,
    );
    // The refused-backoff, not the 60 s connect backoff, decides the retry.
    await accept();
    await within(connected, 5000, 'connected()');
  });

  it('drops a connection on which the master has gone silent, and reconnects', async () => {
    await master.close();
    master = await FakeMaster.start({ autoPong: false });
    const { agent, log } = startAgent();
    const connected = agent.connected();
    const { connection } = await accept([], 100);
    await connected;
    await log.waitFor(/no word from the master for \d+ms; dropping the connection/);
    expect(await connection.closed).toBe(1006);
    await master.nextConnection();
  });

  it('retries while the master is down', async () => {
    const url = master.url;
    await master.close();
    const { agent, log } = startAgent({ master: url });
    await log.waitFor(/cannot connect to ws:\/\/127\.0\.0\.1:\d+\/worker: .*ECONNREFUSED.*; retrying in/);
    await agent.stop();
    master = await FakeMaster.start();
  });

  it('kills process groups an earlier agent left running', async () => {
    // As an agent that died with kill -9 would leave it: a detached group and its record.
    const pid = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' }).pid!;
    mkdirSync(join(dir, '.shepherd'), { recursive: true });
    writeFileSync(
      join(dir, '.shepherd', 'running.jsonl'),
      `${JSON.stringify({ boot_id: null, agent_pid: 999_999 })}\n${JSON.stringify({ add: { pgid: pid, step_id: 77, started_at: 0 } })}\n`,
    );

    const { log } = startAgent();
    await log.waitFor(new RegExp(`killed process group ${pid} of step 77, left running by an earlier agent`));
    await gone(pid);
    expect(readRunningRecord(join(dir, '.shepherd', 'running.jsonl'))).toMatchObject({ agent_pid: process.pid, groups: [] });
  });

  it('stop() ends running steps and closes the connection', async () => {
    const { agent, log } = startAgent();
    const connected = agent.connected();
    const { connection } = await accept();
    await connected;
    startStep(connection, 8, command('echo "pid $$"; exec sleep 1000'));
    const pid = Number((await connection.until(() => connection.textOf(8).match(/pid (\d+)\n/), 'the pid'))[1]);
    await agent.stop();
    expect(await connection.closed).toBe(1001);
    await gone(pid);
    expect(log.lines.at(-1)).toBe('stopped; ended 1 running step(s)');
    // A clean stop leaves nothing for the next agent to clean up.
    expect(existsSync(join(dir, '.shepherd', 'running.jsonl'))).toBe(false);
    expect(spoolFiles()).toEqual([]);
    await expect(agent.connected()).rejects.toThrow(/stopped/);
  });
});

describe('worker agent: collecting files', () => {
  const collect = (globs: string[], limits: { file?: number; total?: number } = {}, kind: 'artifact' | 'test_results' = 'artifact') => ({
    kind,
    globs,
    max_file_bytes: limits.file ?? 1024 * 1024 * 1024,
    max_total_bytes: limits.total ?? 1024 * 1024 * 1024,
  });

  it('sends the matched files byte for byte before step_finished, and announces the ones over the limits', async () => {
    const { agent } = startAgent();
    const connected = agent.connected();
    const { connection } = await accept();
    await connected;
    // Three frames' worth of bytes that are not text.
    const script =
      'mkdir -p out/deep && head -c 150000 /dev/urandom > out/data.bin && echo small > out/deep/a.log && ' +
      'head -c 5000 /dev/zero > out/deep/big.log && : > out/empty.log && echo built';
    startStep(connection, 31, command(script, { collect: [collect(['out/**/*.log', 'out/*.bin'], { total: 150006 }), collect(['missing/*.xml'], {}, 'test_results')] }));
    const finished = await connection.next('step_finished');
    expect(finished.outcome).toMatchObject({ exit_code: 0 });

    const begins = connection.messages.filter((m) => m.type === 'upload_begin');
    expect(begins.map((b) => [b.kind, b.name, b.size])).toEqual([
      ['artifact', 'out/data.bin', 150000],
      ['artifact', 'out/deep/a.log', 6],
      ['artifact', 'out/empty.log', 0],
    ]);
    expect(connection.messages.filter((m) => m.type === 'upload_skipped')).toEqual([
      { type: 'upload_skipped', step_id: 31, kind: 'artifact', name: 'out/deep/big.log', size: 5000, reason: "past the step's limit of 146.5 KiB for its artifact files" },
    ]);
    const data = readFileSync(join(dir, 'b', 'out', 'data.bin'));
    const first = begins[0]!;
    expect(connection.uploadBytes(first.upload_id).equals(data)).toBe(true);
    // In order, without gaps, each within the chunk limit.
    let offset = 0;
    for (const chunk of connection.uploads.filter((u) => u.upload_id === first.upload_id)) {
      expect(chunk.offset).toBe(offset);
      offset += chunk.data.length;
    }
    expect(connection.uploadBytes(begins[1]!.upload_id).toString()).toBe('small\n');
    expect(connection.messages.filter((m) => m.type === 'upload_end')).toHaveLength(3);
    // Everything about files comes after the output and before the step's end.
    const order = connection.order.filter((o) => o !== 'message:heartbeat');
    expect(order.at(-1)).toBe('message:step_finished');
    expect(order.findLastIndex((o) => o.startsWith('output:'))).toBeLessThan(order.indexOf('message:upload_begin'));
    // The step's log says what was sent and skipped, and that no test results matched.
    expect(connection.textOf(31)).toBe(
      'built\n' +
        '[shepherd] artifacts: sending 3 file(s), skipping 1\n' +
        "[shepherd] artifacts: skipping out/deep/big.log (4.9 KiB): past the step's limit of 146.5 KiB for its artifact files\n" +
        '[shepherd] test results: no file matched missing/*.xml\n',
    );
  });

  it('collects nothing from a cancelled step', async () => {
    const { agent } = startAgent();
    const connected = agent.connected();
    const { connection } = await accept();
    await connected;
    startStep(connection, 32, command('echo x > a.log; echo started; sleep 1000', { collect: [collect(['*.log'])] }));
    await connection.until(() => connection.textOf(32).includes('started\n'), 'the step to start');
    connection.send({ type: 'cancel', step_id: 32, reason: 'stopped by alice' });
    const finished = await connection.next('step_finished');
    expect(finished.outcome.ended_by).toBe('cancel');
    expect(connection.messages.filter((m) => m.type.startsWith('upload_'))).toEqual([]);
  });

  it('abandons the file being sent when the connection drops, and sends the rest on the next one', async () => {
    const { agent, log } = startAgent();
    const connected = agent.connected();
    const first = (await accept()).connection;
    await connected;
    // Far more than the link buffers before it waits for the socket to drain.
    startStep(first, 33, command('head -c 30000000 /dev/zero > a-big.bin; echo last > b-small.txt', { collect: [collect(['*.bin', '*.txt'])] }));
    await first.until(() => first.uploads.length > 0, 'the first upload frame');
    first.terminate();
    await log.waitFor(/step 33: connection lost while sending artifact a-big\.bin; it is abandoned/);

    const { connection: second, hello } = await accept([{ step_id: 33, acked_seq: 0 }]);
    expect(hello.held[0]).toMatchObject({ step_id: 33, finished: expect.objectContaining({ exit_code: 0 }) });
    await second.next('step_finished');
    const begins = second.messages.filter((m) => m.type === 'upload_begin');
    expect(begins.map((b) => b.name)).toEqual(['b-small.txt']);
    expect(second.uploadBytes(begins[0]!.upload_id).toString()).toBe('last\n');
    // Upload ids are never reused, even across connections.
    const firstIds = new Set(first.messages.filter((m) => m.type === 'upload_begin').map((b) => b.upload_id));
    expect(firstIds.has(begins[0]!.upload_id)).toBe(false);
  });
});
