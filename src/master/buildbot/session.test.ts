/**
 * The msgpack session and remote commands over real WebSockets: a test
 * plays the worker's side with raw msgpack frames, as Buildbot's worker
 * sends them (see the captured exchange in the shared reference).
 */
import { decode, encode } from '@msgpack/msgpack';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ManualClock } from '../clock.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { RemoteCommands } from './remote-commands.js';
import { ConnectionClosedError, MsgpackSession, RemoteError } from './session.js';

/** The worker's end: raw frames in and out. */
class FakeWorker {
  readonly received: Record<string, unknown>[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: (() => void)[] = [];
  #seq = 0;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.received.push(decode(data) as Record<string, unknown>);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** The next frame from the master matching `match` (already received or still to come). */
  async next(match: (m: Record<string, unknown>) => boolean, taken = new Set<Record<string, unknown>>()): Promise<Record<string, unknown>> {
    for (;;) {
      const found = this.received.find((m) => match(m) && !taken.has(m));
      if (found) return found;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Sends a message with the worker's own next sequence number; returns that number. */
  send(message: Record<string, unknown>): number {
    const seq = this.#seq++;
    this.ws.send(encode({ ...message, seq_number: seq }));
    return seq;
  }

  respond(seq: unknown, result: unknown = null, isException = false): void {
    this.ws.send(encode({ op: 'response', seq_number: seq, result, ...(isException ? { is_exception: true } : {}) }));
  }
}

let server: WebSocketServer;
let clock: ManualClock;
const sessions: MsgpackSession[] = [];
const closes: string[] = [];
const logger = pino({ level: 'silent' });

/** Opens a connection; the master's end gets a session (and remote commands) that `onRequest` routes to. */
async function connect(keepaliveMs = 0): Promise<{ worker: FakeWorker; session: MsgpackSession; commands: RemoteCommands }> {
  const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
  const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  const worker = new FakeWorker(ws);
  await new Promise((resolve) => ws.once('open', resolve));
  const socket = await accepted;
  let commands!: RemoteCommands;
  const session = new MsgpackSession(socket, {
    clock,
    logger,
    keepaliveMs,
    onRequest: (message) => commands.dispatch(message),
    onClose: (reason) => closes.push(reason),
  });
  commands = new RemoteCommands(session);
  sessions.push(session);
  return { worker, session, commands };
}

beforeEach(async () => {
  clock = new ManualClock();
  closes.length = 0;
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server.once('listening', resolve));
});

afterEach(async () => {
  for (const session of sessions.splice(0)) session.close('test over');
  await new Promise((resolve) => server.close(resolve));
});

describe('codec', () => {
  it('round-trips a message, keeping text and bytes apart', () => {
    const frame = encodeMessage({ op: 'update', seq_number: 3, args: [['stdout', ['héllo\n', [5], [1.5]]]], data: Buffer.from([0, 255]) });
    const message = decodeMessage(frame, true);
    expect(message).toEqual({ op: 'update', seq_number: 3, args: [['stdout', ['héllo\n', [5], [1.5]]]], data: Buffer.from([0, 255]) });
    expect(Buffer.isBuffer(message.data)).toBe(true);
  });

  it('refuses text frames, non-msgpack, non-maps, and frames without op or seq_number, naming what is wrong', () => {
    expect(() => decodeMessage(Buffer.from('{}'), false)).toThrow(/text frame/);
    expect(() => decodeMessage(Buffer.from([0xc1]), true)).toThrow(/not msgpack/);
    expect(() => decodeMessage(Buffer.from(encode([1, 2])), true)).toThrow(/not a msgpack map/);
    expect(() => decodeMessage(Buffer.from(encode({ seq_number: 1 })), true)).toThrow(/without a string `op`/);
    expect(() => decodeMessage(Buffer.from(encode({ op: 'x', seq_number: -1 })), true)).toThrow(/seq_number/);
    expect(() => decodeMessage(Buffer.from(encode({ op: 'x' })), true)).toThrow(/seq_number/);
  });
});

describe('msgpack session', () => {
  it('numbers its requests from 0 and matches responses by number, in any order', async () => {
    const { worker, session } = await connect();
    const first = session.request('print', { message: 'one' });
    const second = session.request('get_worker_info');
    const a = await worker.next((m) => m.op === 'print');
    const b = await worker.next((m) => m.op === 'get_worker_info');
    expect([a.seq_number, b.seq_number]).toEqual([0, 1]);
    expect(a.message).toBe('one');
    worker.respond(1, { admin: 'me' });
    worker.respond(0, null);
    expect(await second).toEqual({ admin: 'me' });
    expect(await first).toBeNull();
  });

  it('rejects a request answered with is_exception, with the worker\'s text', async () => {
    const { worker, session } = await connect();
    const request = session.request('shutdown');
    worker.respond((await worker.next((m) => m.op === 'shutdown')).seq_number, 'not allowed', true);
    await expect(request).rejects.toThrow(RemoteError);
    await expect(request).rejects.toThrow(/shutdown: not allowed/);
  });

  it('answers every worker request with a response carrying its number', async () => {
    const { worker, commands } = await connect();
    const command = commands.start('b1', 'stat', { path: '/x' });
    const start = await worker.next((m) => m.op === 'start_command');
    expect(start).toMatchObject({ builder_name: 'b1', command_id: command.id, command_name: 'stat', args: { path: '/x' } });
    const seq = worker.send({ op: 'update', command_id: command.id, args: [['stat', [33188, 1, 2, 1, 0, 0, 7, 0, 0, 0]], ['rc', 0]] });
    expect(await worker.next((m) => m.op === 'response' && m.seq_number === seq)).toEqual({ op: 'response', seq_number: seq, result: null });
    worker.respond(start.seq_number);
    worker.send({ op: 'complete', command_id: command.id, args: null });
    const end = await command.done;
    expect(end.rc).toBe(0);
    expect(end.values.get('stat')).toEqual([33188, 1, 2, 1, 0, 0, 7, 0, 0, 0]);
  });

  it('takes updates and even complete before the response to start_command', async () => {
    const { worker, commands } = await connect();
    const output: string[] = [];
    const command = commands.start('b1', 'shell', { command: ['true'] }, {
      update: (key, value) => key === 'stdout' && output.push((value as [string])[0]),
    });
    const start = await worker.next((m) => m.op === 'start_command');
    worker.send({ op: 'update', command_id: command.id, args: [['stdout', ['out1\n', [4], [1]]], ['rc', 0], ['elapsed', 0.25]] });
    worker.send({ op: 'complete', command_id: command.id, args: null });
    const end = await command.done;
    expect(output).toEqual(['out1\n']);
    expect(end).toMatchObject({ rc: 0, elapsed: 0.25, failure: null });
    // The late response is still matched: no protocol error.
    worker.respond(start.seq_number);
    const check = commands.start('b1', 'stat', {});
    check.done.catch(() => {}); // never answered: the connection closes at the end of the test
    expect((await worker.next((m) => m.op === 'start_command' && m.command_id === check.id)).seq_number).toBe(start.seq_number as number + 1);
    expect(closes).toEqual([]);
  });

  it('answers a download_file\'s reads from the master\'s bytes', async () => {
    const { worker, commands } = await connect();
    const data = Buffer.from('0123456789');
    let offset = 0;
    const command = commands.start('b1', 'download_file', { path: '/f' }, {
      read: (length) => data.subarray(offset, (offset += length)),
    });
    await worker.next((m) => m.op === 'start_command');
    const r1 = worker.send({ op: 'update_read_file', command_id: command.id, length: 6 });
    const r2 = worker.send({ op: 'update_read_file', command_id: command.id, length: 6 });
    const r3 = worker.send({ op: 'update_read_file', command_id: command.id, length: 6 });
    const results = await Promise.all([r1, r2, r3].map((seq) => worker.next((m) => m.op === 'response' && m.seq_number === seq)));
    expect(results.map((r) => Buffer.from(r.result as Uint8Array).toString())).toEqual(['012345', '6789', '']);
    worker.send({ op: 'complete', command_id: command.id, args: 'boom' });
    expect((await command.done).failure).toBe('boom');
  });

  it('answers an update for a command that is not running with an exception, and stays open', async () => {
    const { worker } = await connect();
    const seq = worker.send({ op: 'update', command_id: '42', args: [['rc', 0]] });
    const response = await worker.next((m) => m.op === 'response' && m.seq_number === seq);
    expect(response).toMatchObject({ is_exception: true, result: 'no command 42 is running' });
    expect(closes).toEqual([]);
  });

  it('a malformed frame closes that connection only; its pending requests and commands are rejected', async () => {
    const bad = await connect();
    const good = await connect();
    const pending = bad.session.request('get_worker_info').catch((error: unknown) => error);
    const running = bad.commands.start('b1', 'shell', {}).done.catch((error: unknown) => error);
    bad.worker.ws.send(Buffer.from([0xc1, 0x00]));
    expect((await bad.worker.closed).code).toBe(1008);
    bad.commands.closeAll('closed');
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
    expect(await running).toBeInstanceOf(ConnectionClosedError);
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatch(/^1008 a frame that is not msgpack/);

    const request = good.session.request('print', { message: 'still here' });
    good.worker.respond((await good.worker.next((m) => m.op === 'print')).seq_number);
    expect(await request).toBeNull();
  });

  it('a response to a request never made is a protocol error', async () => {
    const { worker } = await connect();
    worker.respond(99);
    expect(await worker.closed).toMatchObject({ code: 1008, reason: expect.stringMatching(/response to request 99/) });
  });

  it('sends a keepalive every interval and closes a connection that leaves one unanswered', async () => {
    const { worker, session } = await connect(1_000);
    clock.advance(1_000);
    const first = await worker.next((m) => m.op === 'keepalive');
    worker.respond(first.seq_number);
    // Frames arrive in order: once this answer is in, so is the keepalive's.
    const ping = session.request('print', { message: 'sync' });
    worker.respond((await worker.next((m) => m.op === 'print')).seq_number);
    await ping;
    clock.advance(1_000);
    const taken = new Set([first]);
    await worker.next((m) => m.op === 'keepalive', taken);
    expect(session.closed).toBe(false);
    clock.advance(1_000);
    expect(session.closed).toBe(true);
    expect((await worker.closed).code).toBe(4003);
  });
});
