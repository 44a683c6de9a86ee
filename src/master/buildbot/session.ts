/**
 * One Buildbot worker's WebSocket as a request/response session: the master
 * numbers its own requests, matches each `response` to its request, answers
 * every request the worker makes, and sends the `keepalive`s (a Buildbot
 * worker on this protocol sends none of its own). A malformed frame, or a
 * response to nothing, closes this one connection; requests still waiting
 * when it closes are rejected.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { ProtocolError } from '../../protocol/index.js';
import type { Clock, TimerHandle } from '../clock.js';
import { decodeMessage, encodeMessage, type BuildbotMessage } from './codec.js';

/** WebSocket close codes of this listener. */
export const BUILDBOT_CLOSE = {
  normal: 1000,
  protocol: 1008,
  keepalive: 4003,
} as const;

/** A request the worker answered with `is_exception`: its text is the worker's. */
export class RemoteError extends Error {
  override name = 'RemoteError';
}

/** The connection closed before the answer came. */
export class ConnectionClosedError extends Error {
  override name = 'ConnectionClosedError';
}

/** What a session needs. */
export interface MsgpackSessionOptions {
  clock: Clock;
  logger: Logger;
  /** How often the master sends `keepalive`; one unanswered by the next closes the connection (0: never). */
  keepaliveMs: number;
  /**
   * Handles a request from the worker (every op but `response`). Its value,
   * or its promise's, is the answer; a thrown Error's message goes back with
   * `is_exception`, except a ProtocolError, which closes the connection.
   * Called in arrival order.
   */
  onRequest(message: BuildbotMessage): unknown;
  /** The connection ended, for whatever reason; called once. */
  onClose(reason: string): void;
}

interface Pending {
  op: string;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** The master's end of one worker's msgpack session. */
export class MsgpackSession {
  readonly #socket: WebSocket;
  readonly #options: MsgpackSessionOptions;
  readonly #pending = new Map<number, Pending>();
  #nextSeq = 0;
  #closed = false;
  #keepalive: TimerHandle | null = null;
  #keepaliveUnanswered = false;
  #closeReported = false;

  constructor(socket: WebSocket, options: MsgpackSessionOptions) {
    this.#socket = socket;
    this.#options = options;
    socket.on('message', (data: Buffer, isBinary: boolean) => this.#onFrame(data, isBinary));
    socket.on('error', (error: Error) => {
      // ws reports oversized frames and framing errors here, then closes.
      options.logger.warn({ reason: error.message }, 'buildbot worker connection error');
    });
    socket.on('close', (code: number, reason: Buffer) => this.#ended(reason.length ? `${code} ${reason.toString()}` : String(code)));
    this.#armKeepalive();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends a request; resolves with the worker's `result`, rejects with RemoteError or ConnectionClosedError. */
  request(op: string, fields: Record<string, unknown> = {}): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ConnectionClosedError(`connection closed before ${op} could be sent`));
    const seq = this.#nextSeq++;
    const answered = new Promise<unknown>((resolve, reject) => this.#pending.set(seq, { op, resolve, reject }));
    this.#socket.send(encodeMessage({ ...fields, op, seq_number: seq }));
    return answered;
  }

  /** Closes the connection (the worker reconnects on its own). */
  close(reason: string, code: number = BUILDBOT_CLOSE.normal): void {
    if (this.#closed) return;
    this.#socket.close(code, reason.slice(0, 120));
    this.#ended(`${code} ${reason}`);
  }

  #onFrame(data: Buffer, isBinary: boolean): void {
    if (this.#closed) return;
    let message: BuildbotMessage;
    try {
      message = decodeMessage(data, isBinary);
      if (message.op === 'response') {
        this.#onResponse(message);
        return;
      }
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#answer(message);
  }

  #onResponse(message: BuildbotMessage): void {
    const pending = this.#pending.get(message.seq_number);
    if (!pending) throw new ProtocolError(`a response to request ${message.seq_number}, which is not waiting for one`);
    this.#pending.delete(message.seq_number);
    if (message.is_exception) pending.reject(new RemoteError(`${pending.op}: ${String(message.result)}`));
    else pending.resolve(message.result ?? null);
  }

  /** Runs the worker's request and sends the response; a ProtocolError closes the connection instead. */
  #answer(message: BuildbotMessage): void {
    const respond = (result: unknown, isException: boolean) => {
      if (this.#closed) return;
      this.#socket.send(encodeMessage({ op: 'response', seq_number: message.seq_number, result, ...(isException ? { is_exception: true } : {}) }));
    };
    const failed = (error: unknown) => {
      if (error instanceof ProtocolError) this.#fail(error);
      else respond(error instanceof Error ? error.message : String(error), true);
    };
    try {
      const result = this.#options.onRequest(message);
      if (result instanceof Promise) result.then((value) => respond(value ?? null, false), failed);
      else respond(result ?? null, false);
    } catch (error) {
      failed(error);
    }
  }

  #fail(error: unknown): void {
    const reason = error instanceof ProtocolError ? error.message : 'internal error handling a frame';
    if (!(error instanceof ProtocolError)) this.#options.logger.error({ err: error }, 'error handling a buildbot worker frame');
    this.#options.logger.warn({ reason }, 'closing buildbot worker connection: malformed frame');
    this.close(reason, BUILDBOT_CLOSE.protocol);
  }

  #armKeepalive(): void {
    const { keepaliveMs, clock } = this.#options;
    if (keepaliveMs <= 0) return;
    this.#keepalive = clock.setTimeout(() => {
      this.#keepalive = null;
      if (this.#closed) return;
      if (this.#keepaliveUnanswered) {
        this.close('no answer to the last keepalive', BUILDBOT_CLOSE.keepalive);
        return;
      }
      this.#keepaliveUnanswered = true;
      this.request('keepalive').then(
        () => (this.#keepaliveUnanswered = false),
        () => {},
      );
      this.#armKeepalive();
    }, keepaliveMs);
  }

  #ended(reason: string): void {
    // close() ends the session at once; the socket's close event comes after and finds nothing to do.
    if (this.#closed && this.#pending.size === 0 && this.#keepalive === null && this.#closeReported) return;
    this.#closed = true;
    this.#keepalive?.cancel();
    this.#keepalive = null;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new ConnectionClosedError(`connection closed (${reason}) before the answer to ${p.op}`));
    if (!this.#closeReported) {
      this.#closeReported = true;
      this.#options.onClose(reason);
    }
  }
}
