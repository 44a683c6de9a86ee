import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';
import { LogText } from './log-text.js';
import { PLAIN } from './ansi.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds `whole` cut at every given offset; returns the lines and the final one. */
function feed(whole: Uint8Array, cuts: number[]): string[] {
  const splitter = new LineSplitter();
  const out: string[] = [];
  let at = 0;
  for (const cut of [...cuts, whole.length]) {
    out.push(...splitter.push(whole.subarray(at, cut)));
    at = cut;
  }
  const last = splitter.end();
  if (last !== null) out.push(last);
  return out;
}

describe('LineSplitter', () => {
  it('splits lines across chunks and keeps the unfinished one pending', () => {
    const splitter = new LineSplitter();
    expect(splitter.push(bytes('one\ntw'))).toEqual(['one']);
    expect(splitter.partial).toBe('tw');
    expect(splitter.push(bytes('o'))).toEqual([]);
    expect(splitter.push(bytes('\nthree\n'))).toEqual(['two', 'three']);
    expect(splitter.partial).toBe('');
    expect(splitter.end()).toBeNull();
  });

  it('decodes multi-byte characters cut at every possible byte', () => {
    const whole = bytes('é€😀 naïve\nligne 2 — fin\n末尾');
    for (let cut = 1; cut < whole.length; cut++) {
      expect(feed(whole, [cut])).toEqual(['é€😀 naïve', 'ligne 2 — fin', '末尾']);
    }
    // every byte in its own chunk
    expect(feed(whole, Array.from({ length: whole.length - 1 }, (_, i) => i + 1))).toEqual(['é€😀 naïve', 'ligne 2 — fin', '末尾']);
  });

  it('removes CRLF, also when the CR and the LF arrive in different chunks', () => {
    const whole = bytes('a\r\nb\r\n\r\nc\r');
    for (let cut = 1; cut < whole.length; cut++) expect(feed(whole, [cut])).toEqual(['a', 'b', '', 'c']);
  });

  it('keeps a lone carriage return inside a line (progress output)', () => {
    expect(feed(bytes('10%\r50%\r100%\n'), [2, 5])).toEqual(['10%\r50%\r100%']);
  });

  it('replaces invalid bytes instead of failing', () => {
    expect(feed(new Uint8Array([0x61, 0xff, 0x62, 0x0a]), [2])).toEqual(['a\ufffdb']);
  });
});

describe('LogText', () => {
  it('counts the unfinished last line and gives each line its starting ANSI state', () => {
    const text = new LogText();
    const lines = Array.from({ length: 1000 }, (_, i) => (i === 300 ? '\x1b[31mred from here' : i === 700 ? 'reset\x1b[0m' : `line ${i}`));
    text.append(lines.slice(0, 500), 'par');
    expect(text.count).toBe(501);
    expect(text.line(500)).toBe('par');
    text.append(lines.slice(500), '');
    expect(text.count).toBe(1000);
    expect(text.stateAt(300)).toBe(PLAIN);
    expect(text.stateAt(301).fg).toBe(1);
    expect(text.stateAt(600).fg).toBe(1);
    expect(text.stateAt(700).fg).toBe(1);
    expect(text.stateAt(701)).toBe(PLAIN);
    expect(text.stateAt(999)).toBe(PLAIN);
  });
});
