/**
 * Recording debug sessions as asciicast v2 (the asciinema format): a JSON
 * header line, then one JSON array per event, `[seconds, "o", text]` for
 * output and `[seconds, "r", "COLSxROWS"]` for a resize. Input is never
 * recorded: it would hold whatever the person typed, passwords included,
 * and the output shows what the commands did.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Millis } from '../domain.js';

/** The header of a recording. */
export interface CastHeader {
  width: number;
  height: number;
  /** When it started, in epoch milliseconds (written in seconds). */
  startedAt: Millis;
  /** A few variables describing the terminal (TERM, SHELL). */
  env?: Record<string, string>;
  title?: string;
}

/** The header line of an asciicast v2 file, newline included. */
export function castHeaderLine(header: CastHeader): string {
  return `${JSON.stringify({
    version: 2,
    width: header.width,
    height: header.height,
    timestamp: Math.floor(header.startedAt / 1000),
    ...(header.env ? { env: header.env } : {}),
    ...(header.title ? { title: header.title } : {}),
  })}\n`;
}

/** One event line: `[seconds since the start, code, data]`, times to the microsecond. */
export function castEventLine(elapsedMs: Millis, code: 'o' | 'r', data: string): string {
  return `${JSON.stringify([Math.round(Math.max(0, elapsedMs) * 1000) / 1_000_000, code, data])}\n`;
}

/**
 * Writes one recording to a file as the session goes. Output bytes are
 * decoded as UTF-8 across chunk boundaries (a character split between two
 * chunks is written whole, with the second).
 */
export class AsciicastWriter {
  readonly #stream: WriteStream;
  readonly #startedAt: Millis;
  readonly #decoder = new StringDecoder('utf8');
  #closed: Promise<void> | undefined;

  /** Creates the file (and its directory); refuses to overwrite one. */
  constructor(path: string, header: CastHeader) {
    mkdirSync(dirname(path), { recursive: true });
    this.#stream = createWriteStream(path, { flags: 'wx' });
    // A full disk must not take the master down; the audit row still says the session happened.
    this.#stream.on('error', () => {});
    this.#startedAt = header.startedAt;
    this.#stream.write(castHeaderLine(header));
  }

  /** Records output received at `at`. */
  output(at: Millis, data: Buffer): void {
    const text = this.#decoder.write(data);
    if (text && !this.#closed) this.#stream.write(castEventLine(at - this.#startedAt, 'o', text));
  }

  /** Records the terminal's new size. */
  resize(at: Millis, cols: number, rows: number): void {
    if (!this.#closed) this.#stream.write(castEventLine(at - this.#startedAt, 'r', `${cols}x${rows}`));
  }

  /** Flushes what is left and closes the file. */
  close(at: Millis): Promise<void> {
    if (!this.#closed) {
      const rest = this.#decoder.end();
      if (rest) this.#stream.write(castEventLine(at - this.#startedAt, 'o', rest));
      this.#closed = new Promise((resolve) => this.#stream.end(() => resolve()));
    }
    return this.#closed;
  }
}
