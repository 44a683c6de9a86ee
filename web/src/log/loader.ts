/**
 * Loads a step's log in byte ranges without freezing the page: one range in
 * flight at a time, the page given back to the browser between ranges, and
 * the lines appended as they arrive (the first ones show at once). For a
 * running step, `grow` says how long the log is now (from live output
 * events): bursts coalesce into the next fetch. `finish` reads to the end.
 */
import { LineSplitter } from './line-splitter.js';
import { LogText } from './log-text.js';

/** How the loader reaches the network and the event loop (fakes in tests). */
export interface LoaderIo {
  /** Bytes [start, end) of the log, or fewer if it is shorter. */
  fetchRange(start: number, end: number, signal: AbortSignal): Promise<Uint8Array>;
  /** Lets the browser draw and handle input (a macrotask). */
  pause(): Promise<void>;
}

/** What the view shows about the loading. */
export interface LoadProgress {
  /** Bytes read and appended. */
  loaded: number;
  /** Bytes known to exist (at least `loaded`). */
  known: number;
  /** The log is complete: the step finished and everything was read. */
  complete: boolean;
  /** A range is being fetched. */
  busy: boolean;
  error: unknown;
}

/** 1 MiB per request. */
export const CHUNK_BYTES = 1 << 20;

/** The byte-range loader of one step's log. */
export class LogLoader {
  readonly text = new LogText();
  private splitter = new LineSplitter();
  private loaded = 0;
  private known = 0;
  private finished = false;
  private complete = false;
  private busy = false;
  private error: unknown = null;
  private abort = new AbortController();
  private listeners = new Set<() => void>();
  /** Changes whenever the text or the progress does (for useSyncExternalStore). */
  version = 0;

  constructor(
    private readonly io: LoaderIo,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {}

  /** The log is at least `bytes` long: fetch what is new. */
  grow(bytes: number): void {
    if (bytes > this.known) this.known = bytes;
    this.pump();
  }

  /** The step finished (its log is at least `bytes` long): read to the end. */
  finish(bytes: number): void {
    this.finished = true;
    this.grow(bytes);
    this.pump();
  }

  /** Stops loading (the view went away). */
  dispose(): void {
    this.abort.abort();
    this.listeners.clear();
  }

  progress(): LoadProgress {
    return { loaded: this.loaded, known: Math.max(this.known, this.loaded), complete: this.complete, busy: this.busy, error: this.error };
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.version++;
    for (const listener of this.listeners) listener();
  }

  private wanted(): boolean {
    return this.loaded < this.known || (this.finished && !this.complete);
  }

  /** Fetches ranges until nothing more is wanted; a call while one runs is absorbed by it. */
  private pump(): void {
    if (this.busy || this.abort.signal.aborted || !this.wanted()) return;
    this.busy = true;
    this.error = null;
    this.changed();
    void this.run().finally(() => {
      this.busy = false;
      if (!this.abort.signal.aborted) this.changed();
    });
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted && this.wanted()) {
      const start = this.loaded;
      let bytes: Uint8Array;
      try {
        bytes = await this.io.fetchRange(start, start + this.chunkBytes, signal);
      } catch (error) {
        if (!signal.aborted) this.error = error;
        return;
      }
      if (signal.aborted) return;
      this.loaded += bytes.length;
      if (this.loaded > this.known) this.known = this.loaded;
      const lines = this.splitter.push(bytes);
      const short = bytes.length < this.chunkBytes;
      if (short && this.finished) {
        // The end of a finished log: its last line needs no newline.
        const last = this.splitter.end();
        this.text.append(last === null ? lines : [...lines, last], '');
        this.complete = true;
      } else {
        this.text.append(lines, this.splitter.partial);
      }
      this.changed();
      // Nothing new stored yet although an event announced it: wait for the next event.
      if (bytes.length === 0 && !this.finished) return;
      await this.io.pause();
    }
  }
}
