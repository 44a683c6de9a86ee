import { describe, expect, it } from 'vitest';
import { LogLoader, type LoaderIo } from './loader.js';
import { partCount, partOf, partRange } from './parts.js';

/** A log on a fake server whose fetches the test answers one by one. */
function fakeServer(initial: string) {
  let stored = new TextEncoder().encode(initial);
  const requests: { start: number; end: number; answer: () => void; fail: (e: Error) => void }[] = [];
  const io: LoaderIo = {
    fetchRange: (start, end) =>
      new Promise((resolve, reject) => {
        // the server answers with what it had stored when asked
        const snapshot = stored.slice(start, end);
        requests.push({ start, end, answer: () => resolve(snapshot), fail: reject });
      }),
    pause: () => Promise.resolve(),
  };
  return {
    io,
    requests,
    write(text: string) {
      const more = new TextEncoder().encode(text);
      const next = new Uint8Array(stored.length + more.length);
      next.set(stored);
      next.set(more, stored.length);
      stored = next;
      return stored.length;
    },
    get length() {
      return stored.length;
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('LogLoader', () => {
  it('reads a finished log in ranges until a short read, then completes it', async () => {
    const server = fakeServer('line one\nline two\nlast without newline');
    const loader = new LogLoader(server.io, 16);
    loader.finish(server.length);
    for (let i = 0; i < 3; i++) {
      await settle();
      server.requests[i]!.answer();
    }
    await settle();
    expect(server.requests.map((r) => [r.start, r.end])).toEqual([
      [0, 16],
      [16, 32],
      [32, 48],
    ]);
    expect(loader.text.lines).toEqual(['line one', 'line two', 'last without newline']);
    expect(loader.progress()).toMatchObject({ loaded: server.length, known: server.length, complete: true, busy: false });
  });

  it('shows the first lines before the rest arrives', async () => {
    const server = fakeServer('a\nb\n'.repeat(10));
    const loader = new LogLoader(server.io, 8);
    loader.finish(server.length);
    await settle();
    server.requests[0]!.answer();
    await settle();
    expect(loader.text.count).toBe(4);
    expect(loader.progress()).toMatchObject({ loaded: 8, known: 40, complete: false, busy: true });
  });

  it('keeps one fetch in flight while a running step writes, then fetches what arrived meanwhile', async () => {
    const server = fakeServer('');
    const loader = new LogLoader(server.io, 1024);
    loader.grow(server.write('first\nsec'));
    await settle();
    expect(server.requests).toHaveLength(1);
    // three output events while the first fetch is out: absorbed
    loader.grow(server.write('ond\n'));
    loader.grow(server.write('third\n'));
    loader.grow(server.write('fou'));
    expect(server.requests).toHaveLength(1);
    server.requests[0]!.answer();
    await settle();
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]).toMatchObject({ start: 9, end: 9 + 1024 });
    expect(loader.text.lines).toEqual(['first']);
    expect(loader.text.partial).toBe('sec');
    server.requests[1]!.answer();
    await settle();
    expect(server.requests).toHaveLength(2);
    expect(loader.text.lines).toEqual(['first', 'second', 'third']);
    expect(loader.text.partial).toBe('fou');
    expect(loader.progress()).toMatchObject({ loaded: server.length, complete: false, busy: false });

    // the step finishes: read the rest, the unfinished line becomes the last line
    server.write('rth');
    loader.finish(server.length - 3);
    await settle();
    server.requests[2]!.answer();
    await settle();
    expect(loader.text.lines).toEqual(['first', 'second', 'third', 'fourth']);
    expect(loader.progress().complete).toBe(true);
  });

  it('waits for the next event when the server has not stored the announced bytes yet', async () => {
    const server = fakeServer('x\n');
    const loader = new LogLoader(server.io, 1024);
    loader.grow(10);
    await settle();
    server.requests[0]!.answer();
    await settle();
    expect(server.requests).toHaveLength(2); // short but not empty: ask again
    server.requests[1]!.answer(); // empty: stop until told more
    await settle();
    expect(server.requests).toHaveLength(2);
    expect(loader.progress()).toMatchObject({ loaded: 2, busy: false });
  });

  it('reports a failed fetch and retries on the next growth', async () => {
    const server = fakeServer('abc\n');
    const loader = new LogLoader(server.io, 1024);
    loader.finish(4);
    await settle();
    server.requests[0]!.fail(new Error('boom'));
    await settle();
    expect((loader.progress().error as Error).message).toBe('boom');
    loader.grow(4);
    await settle();
    server.requests[1]!.answer();
    await settle();
    expect(loader.text.lines).toEqual(['abc']);
    expect(loader.progress()).toMatchObject({ complete: true, error: null });
  });

  it('stops after dispose', async () => {
    const server = fakeServer('abc\n');
    const loader = new LogLoader(server.io, 1024);
    loader.finish(4);
    await settle();
    loader.dispose();
    server.requests[0]!.answer();
    await settle();
    expect(loader.text.count).toBe(0);
  });
});

describe('parts', () => {
  it('divides long logs into parts', () => {
    expect(partCount(0, 10)).toBe(1);
    expect(partCount(25, 10)).toBe(3);
    expect(partOf(19, 10)).toBe(1);
    expect(partRange(2, 25, 10)).toEqual({ first: 20, end: 25 });
    expect(partRange(0, 5, 10)).toEqual({ first: 0, end: 5 });
    // a part past the end falls back to the last one
    expect(partRange(7, 25, 10)).toEqual({ first: 20, end: 25 });
  });
});
