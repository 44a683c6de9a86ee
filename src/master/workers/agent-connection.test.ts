/**
 * The master's side of the agent protocol over real sockets, with the real
 * coordinator and store behind it: authentication, refusals, replacement of
 * a stale connection, and frames that close one connection only.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { parse as parseYaml } from 'yaml';
import { openTestStore } from '../../../test/helpers/databases.js';
import { encodeControl, encodeOutput, encodeUpload, MAX_FRAME_BYTES, PROTOCOL_VERSION, type MasterMessage } from '../../protocol/index.js';
import { Coordinator } from '../builds/coordinator.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import { MasterEventBus } from '../events.js';
import { UploadSink } from '../files/upload-sink.js';
import type { Store } from '../store/store.js';
import { acceptAgentSocket, CLOSE } from './agent-connection.js';
import { WorkerCredentials } from './credentials.js';

const config = parseConfig(parseYaml(`
workers:
  - { name: w1, secret_env: S1 }
  - { name: w2, secret_env: S2 }
builders:
  - { name: b, workers: [w1], steps: [{ name: s, run: 'true' }] }
`), 'test.yml', '/tmp');

let store: Store;
let server: Server;
let url: string;
let clock: ManualClock;
let events: MasterEventBus;
let coordinator: Coordinator;
let dataDir: string;
let sink: UploadSink;
const sockets: WebSocket[] = [];

beforeEach(async () => {
  store = await openTestStore('sqlite');
  clock = new ManualClock();
  events = new MasterEventBus();
  const logger = pino({ level: 'silent' });
  coordinator = new Coordinator({ config, store, events, clock, logger, apiToken: null });
  await coordinator.recover();
  const credentials = WorkerCredentials.fromSecrets(new Map([['w1', 'secret-1'], ['w2', 'secret-2']]));
  dataDir = mkdtempSync(join(tmpdir(), 'shepherd-agent-connection-'));
  sink = new UploadSink({ store, dataDir, clock, logger, maxFileBytes: 1024 * 1024, maxBuildBytes: 1024 * 1024 });
  server = createServer();
  const wss = new WebSocketServer({ server, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  wss.on('connection', (socket) => acceptAgentSocket(socket, 'test', { verify: (n, s) => credentials.authenticate(n, s, clock.now()), handler: coordinator, events, clock, logger, heartbeatMs: 30_000, sink }, () => {}));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  for (const s of sockets) s.terminate();
  sockets.length = 0;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Client {
  ws: WebSocket;
  messages: MasterMessage[];
  closed: Promise<{ code: number; reason: string }>;
  next(type: MasterMessage['type']): Promise<MasterMessage>;
}

async function open(): Promise<Client> {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  const messages: MasterMessage[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const next = async (type: MasterMessage['type']) => {
    for (;;) {
      const found = messages.find((m) => m.type === type);
      if (found) return found;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { ws, messages, closed, next };
}

const hello = (name: string, secret: string) => encodeControl({
  type: 'hello', protocol: PROTOCOL_VERSION, name, secret, held: [],
  info: { os: 'linux', arch: 'x86_64', cpus: 2, hostname: 'h', agent_version: 't', dimensions: {} },
});

describe('agent connections', () => {
  it('welcomes a worker with the right secret', async () => {
    const client = await open();
    const connected = events.once('worker:connected');
    client.ws.send(hello('w1', 'secret-1'));
    expect(await client.next('welcome')).toMatchObject({ protocol: PROTOCOL_VERSION, heartbeat_ms: 30_000, resume: [] });
    expect((await connected).worker).toBe('w1');
  });

  it('refuses an unknown name or a wrong secret with a reason, and leaves others connected', async () => {
    const good = await open();
    good.ws.send(hello('w1', 'secret-1'));
    await good.next('welcome');

    const refusals: string[] = [];
    events.on('worker:refused', ({ reason }) => refusals.push(reason));
    for (const [name, secret] of [['w2', 'nope'], ['ghost', 'secret-2']] as const) {
      const bad = await open();
      bad.ws.send(hello(name, secret));
      expect(await bad.next('refused')).toMatchObject({ code: 'SHEPHERD_E_WORKER_AUTH' });
      expect((await bad.closed).code).toBe(CLOSE.auth);
    }
    expect(refusals).toEqual(['wrong secret for worker "w2"', 'no worker named "ghost" is configured on this master']);
    expect(good.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('a newer connection from the same worker replaces the older one', async () => {
    const first = await open();
    first.ws.send(hello('w1', 'secret-1'));
    await first.next('welcome');
    const second = await open();
    second.ws.send(hello('w1', 'secret-1'));
    await second.next('welcome');
    expect(await first.closed).toMatchObject({ code: CLOSE.normal, reason: 'replaced by a newer connection from the same worker' });
    expect(second.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes a connection that sends a malformed, oversized or out-of-order frame, and only that one', async () => {
    const good = await open();
    good.ws.send(hello('w2', 'secret-2'));
    await good.next('welcome');

    const early = await open();
    early.ws.send(encodeOutput({ step_id: 1, seq: 1, stream: 'stdout' }, Buffer.from('x')));
    expect(await early.closed).toMatchObject({ code: CLOSE.protocol, reason: 'output before hello' });

    const oversized = await open();
    oversized.ws.send(hello('w1', 'secret-1'));
    await oversized.next('welcome');
    oversized.ws.send(Buffer.alloc(MAX_FRAME_BYTES + 1));
    expect((await oversized.closed).code).toBe(1009);

    const twice = await open();
    twice.ws.send(hello('w1', 'secret-1'));
    await twice.next('welcome');
    twice.ws.send(hello('w1', 'secret-1'));
    expect(await twice.closed).toMatchObject({ code: CLOSE.protocol, reason: 'second hello on one connection' });

    expect(good.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('hands the properties a step set to the coordinator, which records them on the build', async () => {
    const client = await open();
    client.ws.send(hello('w1', 'secret-1'));
    await client.next('welcome');
    const finished = events.once('build:finished');
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    const start = (await client.next('start_step')) as Extract<MasterMessage, { type: 'start_step' }>;
    client.ws.send(encodeControl({
      type: 'step_finished',
      step_id: start.step_id,
      last_seq: 0,
      outcome: { exit_code: 0, signal: null, duration_ms: 5, ended_by: null, spawn_error: null },
      properties: { got_revision: 'abc123' },
    }));
    const { build } = await finished;
    expect(build.result).toBe('SUCCESS');
    expect((await store.getBuild(build.id))?.properties).toMatchObject({ got_revision: 'abc123' });
  });

  it('closes a connection that lies about a file, naming the lie, and removes what it sent', async () => {
    const client = await open();
    client.ws.send(hello('w1', 'secret-1'));
    await client.next('welcome');
    await coordinator.force({ builder: 'b', properties: {}, reason: 't', submittedBy: null });
    const start = (await client.next('start_step')) as Extract<MasterMessage, { type: 'start_step' }>;
    client.ws.send(encodeControl({ type: 'upload_begin', step_id: start.step_id, upload_id: 1, kind: 'artifact', name: 'a.log', size: 4 }));
    client.ws.send(encodeUpload({ kind: 'upload', upload_id: 1, offset: 0 }, Buffer.from('ab')));
    client.ws.send(encodeUpload({ kind: 'upload', upload_id: 1, offset: 5 }, Buffer.from('cd')));
    expect(await client.closed).toMatchObject({ code: CLOSE.protocol, reason: 'upload 1 (a.log): a frame at offset 5, expected 2' });
    await sink.settled(start.step_id);
    expect(readdirSync(join(dataDir, 'files', 'tmp'))).toEqual([]);
    expect(await store.listStepFiles({ stepId: start.step_id })).toEqual([]);
  });

  it('closes a connection that never says hello', async () => {
    const silent = await open();
    clock.advance(10_000);
    expect(await silent.closed).toMatchObject({ code: CLOSE.protocol, reason: 'no hello within the time allowed' });
  });
});
