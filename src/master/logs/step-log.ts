/**
 * A running step's log on the master: output arrives from the worker in
 * sequenced chunks, is announced at once (`step:output`, for live tails), is
 * buffered briefly and stored in compressed chunks, and only then
 * acknowledged, so the worker resends whatever a crash lost. Duplicate
 * chunks (resent after a reconnect) are dropped by sequence number. Output
 * past the size limit is discarded behind a visible marker.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import type { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';

/** Flush once this much output is buffered. */
export const FLUSH_BYTES = 64 * 1024;
/** Flush this long after the first buffered byte, so slow output is stored (and acked) promptly. */
export const FLUSH_DELAY_MS = 250;

/** Where a step's log stood in the store. */
export interface StoredLogState {
  bytes: number;
  seq: number;
  truncated: boolean;
}

/** What a step log needs. */
export interface StepLogDeps {
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
  /** Called once output up to `seq` is stored; the coordinator acks the worker. */
  onStored: (seq: number) => void;
}

/** The visible line that ends a truncated log. */
export function truncationMarker(limit: number): Buffer {
  return Buffer.from(`\n[shepherd] log truncated at ${limit} bytes: further output was discarded\n`);
}

/** The in-memory end of one step's log. */
export class StepLog {
  /** Highest sequence number accepted (stored or buffered). */
  receivedSeq: number;
  /** Bytes durably stored. */
  #storedBytes: number;
  #storedSeq: number;
  /** Bytes after the stored ones, in order; includes bytes whose flush is in flight. */
  #buffer: Buffer[] = [];
  #bufferBytes = 0;
  /** Sequence number of the last chunk in the buffer. */
  #bufferSeq: number;
  #truncated: boolean;
  #flushing: Promise<void> = Promise.resolve();
  #timer: TimerHandle | null = null;

  constructor(
    readonly stepId: number,
    readonly buildId: number,
    stored: StoredLogState,
    private readonly limit: number,
    private readonly deps: StepLogDeps,
  ) {
    this.#storedBytes = stored.bytes;
    this.#storedSeq = stored.seq;
    this.receivedSeq = stored.seq;
    this.#bufferSeq = stored.seq;
    this.#truncated = stored.truncated;
  }

  /** The log's length: stored plus buffered bytes. */
  get length(): number {
    return this.#storedBytes + this.#bufferBytes;
  }

  /** Last sequence number durably stored. */
  get storedSeq(): number {
    return this.#storedSeq;
  }

  /** Accepts one chunk; returns false (and ignores it) when it was already received. */
  append(seq: number, data: Buffer): boolean {
    if (seq <= this.receivedSeq) return false;
    this.receivedSeq = seq;
    this.#bufferSeq = seq;
    this.#push(data);
    return true;
  }

  /** Adds text written by the master itself (e.g. why a step could not start); it carries no sequence number. */
  note(text: string): void {
    this.#push(Buffer.from(text));
  }

  #push(data: Buffer): void {
    let bytes = data;
    if (this.#truncated) bytes = bytes.subarray(0, 0);
    else if (bytes.length > this.limit - this.length) {
      bytes = Buffer.concat([bytes.subarray(0, Math.max(this.limit - this.length, 0)), truncationMarker(this.limit)]);
      this.#truncated = true;
      this.deps.events.emit('log:truncated', { stepId: this.stepId, limit: this.limit });
    }
    if (bytes.length > 0) {
      const offset = this.length;
      this.#buffer.push(bytes);
      this.#bufferBytes += bytes.length;
      this.deps.events.emit('step:output', { buildId: this.buildId, stepId: this.stepId, offset, data: bytes });
    }
    if (this.#bufferBytes >= FLUSH_BYTES) void this.flush();
    else this.#schedule();
  }

  #schedule(): void {
    this.#timer ??= this.deps.clock.setTimeout(() => {
      this.#timer = null;
      void this.flush();
    }, FLUSH_DELAY_MS);
  }

  /** Stores everything buffered so far; resolves once it is durable. Flushes never overlap. */
  flush(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = null;
    this.#flushing = this.#flushing.then(() => this.#flushOnce());
    return this.#flushing;
  }

  async #flushOnce(): Promise<void> {
    const seq = this.#bufferSeq;
    if (seq === this.#storedSeq && this.#bufferBytes === 0) return;
    const count = this.#buffer.length;
    const bytes = count === 1 ? this.#buffer[0]! : Buffer.concat(this.#buffer.slice(0, count));
    try {
      if (bytes.length > 0) await this.deps.store.appendLog(this.stepId, bytes, seq, this.#truncated);
      else await this.deps.store.setLogSeq(this.stepId, seq);
    } catch (error) {
      // Nothing is acked, so the worker still holds this output and resends it after a reconnect.
      this.deps.logger.error({ err: error, step: this.stepId }, 'storing log output failed');
      return;
    }
    this.#buffer.splice(0, count);
    this.#bufferBytes -= bytes.length;
    this.#storedBytes += bytes.length;
    this.#storedSeq = seq;
    // Only output from the worker carries a sequence number; a note alone has nothing to ack.
    if (seq > 0) this.deps.onStored(seq);
  }

  /** The bytes in [start, end): stored ones from the store, buffered ones from memory. */
  async *read(start: number, end: number = this.length): AsyncGenerator<Buffer> {
    const storedEnd = Math.min(end, this.#storedBytes);
    const buffered = this.#buffer.slice();
    let offset = this.#storedBytes;
    if (start < storedEnd) yield* this.deps.store.readLog(this.stepId, start, storedEnd);
    for (const chunk of buffered) {
      const from = Math.max(start, offset);
      const to = Math.min(end, offset + chunk.length);
      if (from < to) yield chunk.subarray(from - offset, to - offset);
      offset += chunk.length;
    }
  }

  /** Stops the flush timer (the coordinator flushes before dropping a log). */
  dispose(): void {
    this.#timer?.cancel();
    this.#timer = null;
  }
}
