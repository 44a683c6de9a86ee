/**
 * A scripted master for the worker agent's tests: a real WebSocket server on
 * 127.0.0.1 that records every frame the agent sends (checked with the
 * protocol's own decoders) and lets the test answer by hand. It is not the
 * master (the worker never imports `src/master`); it only speaks the wire
 * protocol, which is exactly what the agent must get right.
 */
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import {
  decodeWorkerBinary,
  decodeWorkerMessage,
  encodeControl,
  MAX_FRAME_BYTES,
  type MasterMessage,
  type OutputHeader,
  type UploadHeader,
  type Welcome,
  type WorkerMessage,
} from '../protocol/index.js';

/** One output chunk as the fake master received it. */
export interface ReceivedOutput extends OutputHeader {
  data: Buffer;
}

/** One upload frame as the fake master received it. */
export interface ReceivedUploadChunk extends UploadHeader {
  data: Buffer;
}

/** Rejects after `ms` with a message naming what was awaited. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One agent connection, seen from the master's side. */
export class FakeConnection {
  readonly ws: WebSocket;
  /** The request path the agent dialled. */
  readonly path: string;
  /** Control messages in arrival order (heartbeats included). */
  readonly messages: WorkerMessage[] = [];
  /** Output chunks in arrival order. */
  readonly outputs: ReceivedOutput[] = [];
  /** Upload frames in arrival order. */
  readonly uploads: ReceivedUploadChunk[] = [];
  /** Every frame in arrival order, as `message:TYPE`, `output:STEP` or `upload:ID` (to check what came before what). */
  readonly order: string[] = [];
  /** Frames that failed the protocol's decoders: must stay empty. */
  readonly protocolErrors: string[] = [];
  /** Resolves with the close code once the socket has closed. */
  readonly closed: Promise<number>;
  readonly #events = new EventEmitter();
  readonly #taken = new Set<WorkerMessage>();
  #dead = false;

  constructor(ws: WebSocket, path: string) {
    this.ws = ws;
    this.path = path;
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('message', (data: RawData, isBinary: boolean) => this.#receive(data, isBinary));
  }

  /** Resolves when `check` returns a value other than undefined/null/false, re-checked on every frame. */
  until<T>(check: () => T | undefined | null | false, what: string, ms = 15_000): Promise<T> {
    return within(
      new Promise<T>((resolve) => {
        const test = () => {
          const value = check();
          if (value !== undefined && value !== null && value !== false) {
            this.#events.off('frame', test);
            resolve(value);
          }
        };
        this.#events.on('frame', test);
        test();
      }),
      ms,
      what,
    );
  }

  /** The next control message of this type not returned before. */
  next<T extends WorkerMessage['type']>(type: T, ms = 15_000): Promise<Extract<WorkerMessage, { type: T }>> {
    return this.until(() => {
      const found = this.messages.find((m) => m.type === type && !this.#taken.has(m));
      if (found) this.#taken.add(found);
      return found as Extract<WorkerMessage, { type: T }> | undefined;
    }, `a ${type} message`, ms);
  }

  /** The output chunks of one step, in arrival order. */
  outputOf(stepId: number): ReceivedOutput[] {
    return this.outputs.filter((o) => o.step_id === stepId);
  }

  /** The concatenated output of one step as text. */
  textOf(stepId: number): string {
    return Buffer.concat(this.outputOf(stepId).map((o) => o.data)).toString('utf8');
  }

  /** The bytes of one upload, concatenated in arrival order (offsets are checked by the test). */
  uploadBytes(uploadId: number): Buffer {
    return Buffer.concat(this.uploads.filter((u) => u.upload_id === uploadId).map((u) => u.data));
  }

  /** Sends a control message. */
  send(message: MasterMessage): void {
    this.ws.send(encodeControl(message));
  }

  /** Sends `welcome`. */
  welcome(resume: Welcome['resume'] = [], heartbeatMs = 10_000): void {
    this.send({ type: 'welcome', protocol: 1, heartbeat_ms: heartbeatMs, resume });
  }

  /** Cuts the connection without a close handshake; frames still in flight are ignored. */
  terminate(): void {
    this.#dead = true;
    this.ws.terminate();
  }

  #receive(data: RawData, isBinary: boolean): void {
    if (this.#dead) return;
    const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    try {
      if (isBinary) {
        const frame = decodeWorkerBinary(buffer);
        if (frame.type === 'output') {
          this.outputs.push({ ...frame.header, data: frame.data });
          this.order.push(`output:${frame.header.step_id}`);
        } else {
          this.uploads.push({ ...frame.header, data: frame.data });
          this.order.push(`upload:${frame.header.upload_id}`);
        }
      } else {
        const message = decodeWorkerMessage(buffer.toString('utf8'));
        this.messages.push(message);
        this.order.push(`message:${message.type}`);
      }
    } catch (error) {
      this.protocolErrors.push((error as Error).message);
    }
    this.#events.emit('frame');
  }
}

/** A WebSocket server standing in for the master. */
export class FakeMaster {
  readonly #server: WebSocketServer;
  readonly #pending: FakeConnection[] = [];
  readonly #events = new EventEmitter();
  /** Every connection accepted so far. */
  readonly connections: FakeConnection[] = [];

  private constructor(server: WebSocketServer) {
    this.#server = server;
    server.on('connection', (ws, request) => {
      const connection = new FakeConnection(ws, request.url ?? '');
      this.connections.push(connection);
      this.#pending.push(connection);
      this.#events.emit('connection');
    });
  }

  /** Listens on 127.0.0.1 on a free port; `autoPong: false` plays a master that has hung. */
  static async start({ autoPong = true }: { autoPong?: boolean } = {}): Promise<FakeMaster> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES, autoPong });
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve);
      server.once('error', reject);
    });
    return new FakeMaster(server);
  }

  /** The address an agent is given: `ws://127.0.0.1:PORT` (no path, as users write it). */
  get url(): string {
    return `ws://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The next connection not returned before. */
  nextConnection(ms = 15_000): Promise<FakeConnection> {
    return within(
      new Promise<FakeConnection>((resolve) => {
        const take = () => {
          const connection = this.#pending.shift();
          if (!connection) return;
          this.#events.off('connection', take);
          resolve(connection);
        };
        this.#events.on('connection', take);
        take();
      }),
      ms,
      'an agent connection',
    );
  }

  /** Closes every connection and the server. */
  async close(): Promise<void> {
    for (const connection of this.connections) connection.ws.terminate();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
