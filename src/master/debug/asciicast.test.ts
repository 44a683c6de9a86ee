import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AsciicastWriter, castEventLine, castHeaderLine } from './asciicast.js';

const T0 = 1_700_000_000_123;

describe('asciicast v2', () => {
  it('writes a header line with version, size, start time in seconds and env', () => {
    expect(JSON.parse(castHeaderLine({ width: 80, height: 24, startedAt: T0, env: { TERM: 'dumb' } }))).toEqual({
      version: 2,
      width: 80,
      height: 24,
      timestamp: 1_700_000_000,
      env: { TERM: 'dumb' },
    });
    expect(castHeaderLine({ width: 1, height: 1, startedAt: T0 })).toMatch(/\n$/);
  });

  it('writes events as [seconds, code, data] lines', () => {
    expect(castEventLine(1500, 'o', 'hi\r\n')).toBe('[1.5,"o","hi\\r\\n"]\n');
    expect(castEventLine(0.0004, 'o', 'x')).toBe('[0,"o","x"]\n');
    expect(castEventLine(2000, 'r', '100x30')).toBe('[2,"r","100x30"]\n');
  });

  it('records output as it comes, whole characters across chunk boundaries, and resizes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'shepherd-cast-')), 'debug', 's1.cast');
    const writer = new AsciicastWriter(path, { width: 80, height: 24, startedAt: T0 });
    const euro = Buffer.from('€', 'utf8');
    writer.output(T0 + 10, Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]));
    writer.output(T0 + 20, euro.subarray(1));
    writer.resize(T0 + 30, 120, 40);
    await writer.close(T0 + 40);
    const [header, ...events] = readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(events).toEqual([
      [0.01, 'o', 'a'],
      [0.02, 'o', '€'],
      [0.03, 'r', '120x40'],
    ]);
  });

  it('never overwrites a recording', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'shepherd-cast-')), 's1.cast');
    return new Promise<void>((resolve) => {
      const first = new AsciicastWriter(path, { width: 80, height: 24, startedAt: T0 });
      void first.close(T0).then(async () => {
        const second = new AsciicastWriter(path, { width: 10, height: 10, startedAt: T0 });
        await second.close(T0);
        expect(JSON.parse(readFileSync(path, 'utf8').split('\n')[0]!)).toMatchObject({ width: 80 });
        resolve();
      });
    });
  });
});
