/**
 * Debug sessions through real parts: a real HTTP server with the debug
 * routes, a real coordinator and SQLite store, a real worker agent on a real
 * WebSocket, and real processes on the worker. Wired as `startDebugService`
 * says the master wires it.
 */
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createHttpServer } from '../api/server.js';
import { Coordinator } from '../builds/coordinator.js';
import { systemClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import { MasterEventBus } from '../events.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { acceptAgentSocket } from '../workers/agent-connection.js';
import { startWorkerAgent, type WorkerAgent } from '../../worker/agent.js';
import { approvalToken, endToken } from '../../worker/debug/approval.js';
import type { DebugPolicy } from '../../worker/debug/policy.js';
import { createSmtpMailer } from '../notify/mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../notify/test-servers.js';
import { startDebugService, type DebugService } from './debug-service.js';

const TOKEN = 'debug-test-token';
const SECRET = 'w1-secret-for-debug';
const logger = pino({ level: 'silent' });

let dir: string;
let store: Store;
let coordinator: Coordinator;
let debug: DebugService;
let app: FastifyInstance;
let base: string;
let buildId: number;
let agent: WorkerAgent | undefined;
let agentLog: string[] = [];
let smtp: TestSmtpServer;

async function startAgent(policy: DebugPolicy | undefined): Promise<void> {
  agentLog = [];
  agent = startWorkerAgent({
    master: base.replace('http', 'ws'),
    name: 'w1',
    secret: SECRET,
    dir: join(dir, 'worker'),
    ...(policy ? { debug: policy } : {}),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, SHELL: '/bin/sh' },
    killGraceMs: 500,
    logger: (line) => agentLog.push(line),
  });
  await agent.connected();
}

beforeAll(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'shepherd-debug-')));
  const config = parseConfig(
    {
      master: { api_token_env: 'T', data_dir: './data' },
      workers: [{ name: 'w1', secret_env: 'S1' }],
      builders: [
        {
          name: 'b',
          workers: ['w1'],
          steps: [
            { name: 'prepare', run: 'mkdir -p sub' },
            { name: 'inspect', run: 'true', workdir: 'sub', env: { DEBUG_VAR: 'from-step' } },
          ],
        },
      ],
    },
    join(dir, 'shepherd.yml'),
  );
  mkdirSync(config.master.data_dir, { recursive: true });
  store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
  const events = new MasterEventBus((event, error) => {
    throw new Error(`listener of ${event} failed: ${String(error)}`);
  });
  coordinator = new Coordinator({ config, store, events, clock: systemClock, logger, apiToken: TOKEN, workerSecrets: new Map([['w1', SECRET]]) });
  await coordinator.recover();
  smtp = await startSmtpServer();
  debug = startDebugService({
    config,
    store,
    clock: systemClock,
    logger,
    mailer: createSmtpMailer({ smtp: smtp.url, from: 'Shepherd <shepherd@example.org>' }, { env: {} }),
    publicUrl: () => 'https://ci.example.org',
    adminsOf: async (worker) => (worker === 'w1' ? ['Ada <ada@example.org>'] : []),
  });
  app = await createHttpServer(coordinator, {
    logger: false,
    registry: new Registry(),
    webRoot: null,
    debug: debug.broker,
    onWorkerSocket: (socket, request) =>
      acceptAgentSocket(
        socket,
        request.ip,
        { verify: (name, secret) => coordinator.authenticateWorker(name, secret), handler: coordinator, events, clock: systemClock, logger, heartbeatMs: 10_000, debug: debug.onMessage },
        (connection) => {
          debug.connected(connection);
          socket.once('close', () => debug.disconnected(connection));
        },
      ),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

  await startAgent(undefined);
  const finished = events.once('build:finished', () => true);
  await coordinator.force({ builder: 'b', properties: {}, reason: 'test', submittedBy: null });
  const { build } = await finished;
  expect(build.result).toBe('SUCCESS');
  buildId = build.id;
  await agent!.stop();
  agent = undefined;
});

afterEach(async () => {
  await agent?.stop();
  agent = undefined;
});

afterAll(async () => {
  await debug?.close();
  await app?.close();
  await coordinator?.stop();
  await store?.close();
  await smtp?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Transcript {
  statuses: Record<string, any>[];
  output: string;
}

/**
 * Runs a client session to its end. `onStatus` may answer a status (send
 * input, approve); the transcript is complete once the master closed.
 */
function session(
  options: { command?: string[]; user?: string; onStatus?: (status: Record<string, any>, ws: WebSocket) => void } = {},
): Promise<Transcript> {
  const url = `${base.replace('http', 'ws')}/api/v1/builds/${buildId}/debug?user=${options.user ?? 'ada'}`;
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  const transcript: Transcript = { statuses: [], output: '' };
  return new Promise((resolve, reject) => {
    ws.on('open', () => ws.send(JSON.stringify({ type: 'open', cols: 100, rows: 30, ...(options.command ? { command: options.command } : {}) })));
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        transcript.output += data.toString('utf8');
        return;
      }
      const status = JSON.parse(data.toString('utf8')) as Record<string, any>;
      transcript.statuses.push(status);
      options.onStatus?.(status, ws);
    });
    ws.on('error', reject);
    ws.on('close', () => resolve(transcript));
  });
}

const ALLOW: DebugPolicy = { allow: true, maxMs: 60_000, approval: false };

describe('debug sessions through the master', () => {
  it('runs a command in the build directory with the build environment, records it and audits it', async () => {
    await startAgent(ALLOW);
    const { statuses, output } = await session({ command: ['sh', '-c', 'pwd; echo "$DEBUG_VAR"; exit 3'] });
    expect(output).toBe(`${join(dir, 'worker', 'b', 'sub')}\nfrom-step\n`);
    expect(statuses.map((s) => s.type)).toEqual(['session', 'opened', 'exit']);
    expect(statuses[1]).toMatchObject({ mode: 'pipe', cwd: join(dir, 'worker', 'b', 'sub'), max_ms: 60_000 });
    expect(statuses[2]).toMatchObject({ exit_code: 3, signal: null });

    const list = (await (await fetch(`${base}/api/v1/builds/${buildId}/debug-sessions`)).json()) as any;
    const entry = list.sessions.find((s: any) => s.session === statuses[0]!.session);
    expect(entry).toMatchObject({ worker: 'w1', user: 'ada', command: ['sh', '-c', 'pwd; echo "$DEBUG_VAR"; exit 3'], mode: 'pipe', exit_code: 3, refused_reason: null });
    expect(entry.ended_at).toBeGreaterThanOrEqual(entry.started_at);

    expect((await fetch(`${base}${entry.recording}`)).status).toBe(401);
    const recording = await fetch(`${base}${entry.recording}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(recording.status).toBe(200);
    const [header, ...events] = (await recording.text()).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(header).toMatchObject({ version: 2, width: 100, height: 30, timestamp: expect.any(Number) });
    expect(events.every((e: unknown[]) => e.length === 3 && typeof e[0] === 'number' && e[1] === 'o')).toBe(true);
    expect(events.map((e: unknown[]) => e[2]).join('')).toBe(output);
    expect(readdirSync(join(dir, 'data', 'debug'))).toContain(`${entry.session}.cast`);
  });

  it('is refused by a worker without a debug policy, saying its admin does not allow it', async () => {
    await startAgent(undefined);
    const { statuses, output } = await session({ command: ['pwd'] });
    expect(output).toBe('');
    expect(statuses.map((s) => s.type)).toEqual(['session', 'refused']);
    expect(statuses[1]!.reason).toBe("the worker's admin does not allow debug sessions on w1");
    const [entry] = ((await (await fetch(`${base}/api/v1/builds/${buildId}/debug-sessions`)).json()) as any).sessions;
    expect(entry).toMatchObject({ session: statuses[0]!.session, refused_reason: "the worker's admin does not allow debug sessions on w1", recording: null });
  });

  it('refuses a user the policy does not list', async () => {
    await startAgent({ ...ALLOW, users: ['victor'] });
    const { statuses } = await session({ command: ['pwd'], user: 'mallory' });
    expect(statuses.at(-1)).toEqual({ type: 'refused', reason: 'user mallory is not among those the admin of w1 allows to open debug sessions' });
  });

  it('opens an interactive shell that takes input and exits with its status', async () => {
    await startAgent(ALLOW);
    const { statuses, output } = await session({
      onStatus: (status, ws) => {
        if (status.type === 'opened') ws.send(Buffer.from('echo "in $(pwd)"; exit 7\n'), { binary: true });
      },
    });
    expect(output).toContain(`in ${join(dir, 'worker', 'b', 'sub')}`);
    const opened = statuses.find((s) => s.type === 'opened')!;
    // node-pty may or may not be built here; pipe mode must say so.
    if (opened.mode === 'pipe') expect(opened.note).toMatch(/^no PTY on this worker \(node-pty[^)]*\): pipe mode; no job control$/);
    expect(statuses.at(-1)).toMatchObject({ type: 'exit', exit_code: 7 });
  });

  it('waits for the admin approval token, rejects a wrong one and starts on the right one', async () => {
    await startAgent({ ...ALLOW, approval: true });
    const answers: { status: number; body: any }[] = [];
    const approve = async (sessionId: string, token: string) => {
      const response = await fetch(`${base}/api/v1/debug/${sessionId}/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      answers.push({ status: response.status, body: await response.json() });
    };
    let sessionId = '';
    let approving: Promise<void> | undefined;
    const { statuses, output } = await session({
      command: ['sh', '-c', 'echo approved'],
      onStatus: (status) => {
        if (status.type === 'session') sessionId = status.session;
        // The first pending: a wrong token (the master's own guess), then the admin's.
        if (status.type === 'pending' && !approving) {
          approving = approve(sessionId, approvalToken('not-the-secret', sessionId)).then(() => approve(sessionId, approvalToken(SECRET, sessionId)));
        }
      },
    });
    await approving;
    expect(answers[0]!.status).toBe(403);
    expect(answers[0]!.body.error.message).toMatch(/does not match/);
    expect(answers[1]).toEqual({ status: 200, body: { approved: true } });
    expect(output).toBe('approved\n');
    expect(statuses.map((s) => s.type)).toEqual(['session', 'pending', 'pending', 'opened', 'exit']);
    expect(agentLog.join('\n')).toContain(`shepherd approve ${sessionId}`);
    // The worker's admins were asked by mail, once.
    const [mail] = await smtp.waitFor(1);
    expect(mail).toMatchObject({ to: ['ada@example.org'], subject: `[shepherd] ada asks for a debug session on w1 (build ${buildId})` });
    expect(mail!.text).toContain(`shepherd approve ${sessionId} --secret-env VAR --master https://ci.example.org`);
    expect(mail!.text).toContain(`https://ci.example.org/debug/${sessionId}/approve`);
    expect(smtp.messages).toHaveLength(1);
  });

  it("lets the worker's admin end a session with the worker's secret; a wrong token ends nothing", async () => {
    await startAgent(ALLOW);
    const end = (sessionId: string, token: string) =>
      fetch(`${base}/api/v1/debug/${sessionId}/end`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    let sessionId = '';
    let ended: Promise<Response> | undefined;
    const { statuses } = await session({
      command: ['sleep', '30'],
      onStatus: (status) => {
        if (status.type === 'session') sessionId = status.session;
        if (status.type === 'opened') {
          // The master's own guess first: once the worker has ignored it, the admin's token.
          void end(sessionId, endToken('not-the-secret', sessionId));
          ended = (async () => {
            while (!agentLog.some((line) => line.includes('a request to end it with a token that does not match was ignored'))) {
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
            return end(sessionId, endToken(SECRET, sessionId));
          })();
        }
      },
    });
    expect(statuses.at(-1)).toMatchObject({ type: 'exit', reason: "ended by the worker's admin" });
    expect(await (await ended!).json()).toEqual({ ended: true });
    expect(agentLog.join('\n')).toContain(`debug session ${sessionId}: a request to end it with a token that does not match was ignored`);
    expect(agentLog.join('\n')).toContain(`debug session ${sessionId}: ended by the worker's admin`);
  });

  it("ends a session at the worker's time limit", async () => {
    await startAgent({ ...ALLOW, maxMs: 300 });
    const { statuses } = await session({ command: ['sleep', '30'] });
    expect(statuses.at(-1)).toMatchObject({ type: 'exit', exit_code: null, signal: 'SIGHUP', reason: "the worker's time limit of 300ms was reached" });
  });

  it('refuses a client without the API token before the upgrade', async () => {
    const response = await fetch(`${base}/api/v1/builds/${buildId}/debug`);
    expect(response.status).toBe(401);
    const missing = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace('http', 'ws')}/api/v1/builds/999/debug?token=${TOKEN}`);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'open' })));
      ws.on('message', (data: Buffer) => expect(JSON.parse(data.toString())).toMatchObject({ type: 'error', code: 'SHEPHERD_E_NOT_FOUND' }));
      ws.on('close', (code) => resolve(code));
    });
    expect(missing).toBe(1000);
  });
});

