/**
 * Turns a step's raw stdout/stderr bytes into numbered output chunks.
 *
 * Small writes are coalesced so a chatty build does not become one frame per
 * `write(2)`: a chunk is cut when the pending bytes reach the chunk size, or
 * `flushAfterMs` after the first unflushed byte, whichever comes first. A
 * change of stream cuts the chunk too, because the log is one byte stream in
 * arrival order and stdout and stderr share the step's sequence numbers.
 */
import { MAX_OUTPUT_CHUNK_BYTES } from '../protocol/index.js';
import type { Clock, TimerHandle } from './clock.js';

/** Which of the step's output streams some bytes came from. */
export type OutputStream = 'stdout' | 'stderr';

/** Options for one step's sequencer. */
export interface OutputSequencerOptions {
  clock: Clock;
  /** Receives each chunk; `seq` starts at 1 and has no gaps. */
  onChunk(seq: number, stream: OutputStream, data: Buffer): void;
  chunkBytes?: number;
  flushAfterMs?: number;
}

/** Coalesces and numbers one step's output. */
export class OutputSequencer {
  readonly #clock: Clock;
  readonly #onChunk: OutputSequencerOptions['onChunk'];
  readonly #chunkBytes: number;
  readonly #flushAfterMs: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #pendingStream: OutputStream = 'stdout';
  #timer: TimerHandle | null = null;
  #lastSeq = 0;
  #closed = false;

  constructor({ clock, onChunk, chunkBytes = MAX_OUTPUT_CHUNK_BYTES, flushAfterMs = 100 }: OutputSequencerOptions) {
    if (chunkBytes < 1 || chunkBytes > MAX_OUTPUT_CHUNK_BYTES) throw new RangeError(`chunkBytes must be 1..${MAX_OUTPUT_CHUNK_BYTES}`);
    this.#clock = clock;
    this.#onChunk = onChunk;
    this.#chunkBytes = chunkBytes;
    this.#flushAfterMs = flushAfterMs;
  }

  /** The sequence number of the last chunk handed out (0: none yet). */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** Adds bytes from one stream; may emit chunks synchronously. */
  write(stream: OutputStream, data: Buffer): void {
    if (this.#closed || data.length === 0) return;
    if (this.#pendingBytes > 0 && stream !== this.#pendingStream) this.flush();
    this.#pendingStream = stream;
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    while (this.#pendingBytes >= this.#chunkBytes) this.#emit(this.#chunkBytes);
    if (this.#pendingBytes > 0 && !this.#timer) {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = null;
        this.flush();
      }, this.#flushAfterMs);
    }
  }

  /** Emits whatever is pending now (the step ended, or the stream changed). */
  flush(): void {
    this.#timer?.cancel();
    this.#timer = null;
    while (this.#pendingBytes > 0) this.#emit(Math.min(this.#pendingBytes, this.#chunkBytes));
  }

  /** Stops emitting and forgets pending bytes (the step was dropped). */
  discard(): void {
    this.#timer?.cancel();
    this.#timer = null;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#closed = true;
  }

  #emit(size: number): void {
    const all = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    // Copy so the chunk does not pin a larger buffer Node may reuse or keep alive.
    const chunk = Buffer.from(all.subarray(0, size));
    const rest = all.subarray(size);
    this.#pending = rest.length > 0 ? [rest] : [];
    this.#pendingBytes = rest.length;
    if (this.#pendingBytes === 0) {
      this.#timer?.cancel();
      this.#timer = null;
    }
    this.#onChunk(++this.#lastSeq, this.#pendingStream, chunk);
  }
}
