/**
 * One connection to the master, as the step registry sees it: somewhere to
 * send control messages and output frames, with backpressure so replaying a
 * large spool does not pile the whole of it into the socket's buffer.
 */
import type { WebSocket } from 'ws';
import {
  encodeControl,
  encodeOutput,
  encodeUpload,
  MAX_OUTPUT_CHUNK_BYTES,
  WorkerMessage,
  type OutputHeader,
  type UploadHeader,
} from '../protocol/index.js';
import type { Logger } from './logger.js';

/** Where held steps send their output and results while a connection is up. */
export interface MasterLink {
  sendControl(message: WorkerMessage): void;
  sendOutput(header: OutputHeader, data: Buffer): void;
  /** Sends part of a collected file (at most MAX_OUTPUT_CHUNK_BYTES); the same backpressure applies. */
  sendUpload(header: UploadHeader, data: Buffer): void;
  /** True while more is queued in the socket than it should be. */
  readonly congested: boolean;
  /** Resolves once the queue has drained (or the connection is gone). */
  drained(): Promise<void>;
}

const HIGH_WATER_BYTES = 4 * 1024 * 1024;
const LOW_WATER_BYTES = 1024 * 1024;

/** A MasterLink over an open `ws` WebSocket. */
export class WebSocketLink implements MasterLink {
  readonly #ws: WebSocket;
  readonly #log: Logger;
  #waiters: (() => void)[] = [];
  #closed = false;

  constructor(ws: WebSocket, log: Logger) {
    this.#ws = ws;
    this.#log = log;
  }

  sendControl(message: WorkerMessage): void {
    if (!this.#open()) return;
    // The master closes the connection on a malformed frame; checking here
    // turns a bug into one log line instead of a reconnect loop.
    const checked = WorkerMessage.safeParse(message);
    if (!checked.success) {
      this.#log(`bug: not sending an invalid ${message.type} message: ${checked.error.issues[0]?.message}`);
      return;
    }
    this.#ws.send(encodeControl(message));
  }

  sendOutput(header: OutputHeader, data: Buffer): void {
    if (!this.#open()) return;
    if (data.length > MAX_OUTPUT_CHUNK_BYTES || !Number.isInteger(header.seq) || header.seq < 1) {
      this.#log(`bug: not sending an invalid output chunk (step ${header.step_id}, seq ${header.seq}, ${data.length} bytes)`);
      return;
    }
    this.#ws.send(encodeOutput(header, data), { binary: true }, () => this.#checkDrained());
  }

  sendUpload(header: UploadHeader, data: Buffer): void {
    if (!this.#open()) return;
    if (data.length > MAX_OUTPUT_CHUNK_BYTES) {
      this.#log(`bug: not sending an upload chunk of ${data.length} bytes (upload ${header.upload_id})`);
      return;
    }
    this.#ws.send(encodeUpload(header, data), { binary: true }, () => this.#checkDrained());
  }

  get congested(): boolean {
    return !this.#closed && this.#ws.bufferedAmount > HIGH_WATER_BYTES;
  }

  drained(): Promise<void> {
    if (!this.congested) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The connection is gone: nobody waits for it any more. */
  close(): void {
    this.#closed = true;
    this.#release();
  }

  #open(): boolean {
    return !this.#closed && this.#ws.readyState === this.#ws.OPEN;
  }

  #checkDrained(): void {
    if (this.#closed || this.#ws.bufferedAmount <= LOW_WATER_BYTES) this.#release();
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
