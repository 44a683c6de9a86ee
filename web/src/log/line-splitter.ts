/**
 * Bytes to lines, incrementally: a log arrives in byte ranges that may cut a
 * UTF-8 character or a CRLF in two. A streaming TextDecoder keeps the bytes
 * of an unfinished character; the text after the last newline waits for the
 * next range (and is shown meanwhile as the log's unfinished last line).
 */
export class LineSplitter {
  private decoder = new TextDecoder('utf-8');
  private pending = '';

  /** Feeds the next bytes; returns the lines they complete (without `\n` or `\r\n`). */
  push(bytes: Uint8Array): string[] {
    const text = this.decoder.decode(bytes, { stream: true });
    if (text === '') return [];
    if (text.indexOf('\n') < 0) {
      this.pending += text;
      return [];
    }
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop()!;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (line.charCodeAt(line.length - 1) === 13) lines[i] = line.slice(0, -1);
    }
    return lines;
  }

  /** The unfinished last line so far ('' when the text ends with a newline). */
  get partial(): string {
    return this.pending;
  }

  /** The log is complete: returns its last line if it did not end with a newline (else null). */
  end(): string | null {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    if (rest === '') return null;
    return rest.charCodeAt(rest.length - 1) === 13 ? rest.slice(0, -1) : rest;
  }
}
