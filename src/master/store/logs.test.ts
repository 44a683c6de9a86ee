import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

describe.each(DATABASES)('step logs on %s', (kind) => {
  let store: Store;
  let stepId: number;

  beforeEach(async () => {
    store = await openTestStore(kind);
    const req = await store.enqueueRequest({
      builder: 'linux',
      priority: 0,
      properties: {},
      reason: 'test',
      submittedBy: null,
      submittedAt: T0,
    });
    const started = await store.startBuild({ requestId: req.id, builder: 'linux', worker: 'w1', properties: {}, steps: ['a', 'b'], startedAt: T0 });
    stepId = started!.steps[0]!.id;
  });
  afterEach(async () => {
    await store.close();
  });

  it('reads back exactly the bytes of any range, across chunk boundaries', async () => {
    // Sizes chosen so ranges start and end inside, at and across boundaries, including a 1-byte chunk.
    const sizes = [5, 1, 7000, 3, 65_536, 20];
    const chunks = sizes.map((size, i) => Buffer.from(Array.from({ length: size }, (_, j) => (i * 37 + j * 11) % 256)));
    let seq = 0;
    for (const chunk of chunks) await store.appendLog(stepId, chunk, ++seq);
    const all = Buffer.concat(chunks);

    expect(await store.getStep(stepId)).toMatchObject({ logBytes: all.length, logSeq: sizes.length, logTruncated: false });
    expect((await collect(store.readLog(stepId))).equals(all)).toBe(true);

    const boundaries = sizes.reduce<number[]>((acc, size) => [...acc, acc.at(-1)! + size], [0]);
    const points = [...new Set(boundaries.flatMap((b) => [b - 1, b, b + 1]).filter((p) => p >= 0 && p <= all.length))];
    for (const start of points) {
      for (const end of points) {
        if (end < start) continue;
        const got = await collect(store.readLog(stepId, start, end));
        expect(got.equals(all.subarray(start, end)), `[${start}, ${end})`).toBe(true);
      }
    }
    // Open-ended and past-the-end reads stop at the log's length.
    expect((await collect(store.readLog(stepId, 7010))).equals(all.subarray(7010))).toBe(true);
    expect((await collect(store.readLog(stepId, 100, all.length + 1000))).equals(all.subarray(100))).toBe(true);
    expect((await collect(store.readLog(stepId, all.length + 5))).length).toBe(0);
  });

  it('yields one buffer per stored chunk it overlaps', async () => {
    for (const [i, text] of ['abc', 'defg', 'hi'].entries()) await store.appendLog(stepId, Buffer.from(text), i + 1);
    const parts: string[] = [];
    for await (const part of store.readLog(stepId, 1, 8)) parts.push(part.toString());
    expect(parts).toEqual(['bc', 'defg', 'h']);
  });

  it('preserves binary bytes that are not UTF-8', async () => {
    const binary = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x90, 0x28, 0xbc]), randomBytes(4096)]);
    await store.appendLog(stepId, binary.subarray(0, 3), 1);
    await store.appendLog(stepId, binary.subarray(3), 2);
    expect((await collect(store.readLog(stepId))).equals(binary)).toBe(true);
    expect((await collect(store.readLog(stepId, 2, 5))).equals(binary.subarray(2, 5))).toBe(true);
  });

  it('streams a multi-megabyte log chunk by chunk', async () => {
    const chunkSize = 64 * 1024;
    const count = 160; // 10 MiB: ten pages of chunks
    const whole = createHash('sha256');
    const middle = createHash('sha256');
    const [midStart, midEnd] = [3 * chunkSize + 123, 150 * chunkSize - 7];
    for (let i = 0; i < count; i++) {
      // Half random (incompressible), half text, so both deflate paths are exercised.
      const chunk = Buffer.concat([randomBytes(chunkSize / 2), Buffer.alloc(chunkSize / 2, `line ${i}\n`)]);
      whole.update(chunk);
      const offset = i * chunkSize;
      const from = Math.max(midStart, offset) - offset;
      const to = Math.min(midEnd, offset + chunkSize) - offset;
      if (to > from) middle.update(chunk.subarray(from, to));
      await store.appendLog(stepId, chunk, i + 1);
    }
    expect(await store.getStep(stepId)).toMatchObject({ logBytes: count * chunkSize, logSeq: count });

    const read = createHash('sha256');
    let parts = 0;
    let total = 0;
    for await (const part of store.readLog(stepId)) {
      expect(part.length).toBeLessThanOrEqual(chunkSize);
      read.update(part);
      total += part.length;
      parts++;
    }
    expect(parts).toBe(count);
    expect(total).toBe(count * chunkSize);
    expect(read.digest('hex')).toBe(whole.digest('hex'));

    const readMiddle = createHash('sha256');
    for await (const part of store.readLog(stepId, midStart, midEnd)) readMiddle.update(part);
    expect(readMiddle.digest('hex')).toBe(middle.digest('hex'));
  });

  it('ends an open-ended read at the length the log had when the read began', async () => {
    for (let i = 0; i < 40; i++) await store.appendLog(stepId, Buffer.from(`chunk ${i}\n`), i + 1);
    const before = (await store.getStep(stepId))!.logBytes;
    const parts: Buffer[] = [];
    for await (const part of store.readLog(stepId)) {
      if (parts.length === 0) await store.appendLog(stepId, Buffer.from('late\n'), 41);
      parts.push(part);
    }
    expect(Buffer.concat(parts).length).toBe(before);
    expect((await collect(store.readLog(stepId))).toString().endsWith('chunk 39\nlate\n')).toBe(true);
  });

  it('keeps each step’s log separate', async () => {
    const other = (await store.getSteps((await store.getStep(stepId))!.buildId))[1]!.id;
    await store.appendLog(stepId, Buffer.from('first'), 1);
    await store.appendLog(other, Buffer.from('second'), 1);
    await store.appendLog(stepId, Buffer.from(' more'), 2);
    expect((await collect(store.readLog(stepId))).toString()).toBe('first more');
    expect((await collect(store.readLog(other))).toString()).toBe('second');
    expect(await store.getStep(other)).toMatchObject({ logBytes: 6, logSeq: 1 });
  });

  it('records the sequence number, with or without bytes, and the truncation mark', async () => {
    await store.appendLog(stepId, Buffer.from('hello\n'), 3);
    expect(await store.getStep(stepId)).toMatchObject({ logBytes: 6, logSeq: 3, logTruncated: false });

    await store.setLogSeq(stepId, 5);
    expect(await store.getStep(stepId)).toMatchObject({ logBytes: 6, logSeq: 5, logTruncated: false });

    await store.appendLog(stepId, Buffer.from('cut her'), 6, true);
    expect(await store.getStep(stepId)).toMatchObject({ logBytes: 13, logSeq: 6, logTruncated: true });

    // An empty append stores no chunk but still records the sequence number.
    await store.appendLog(stepId, Buffer.alloc(0), 9);
    expect(await store.getStep(stepId)).toMatchObject({ logBytes: 13, logSeq: 9, logTruncated: true });
    // The mark stays once set.
    await store.appendLog(stepId, Buffer.from('!'), 10, false);
    expect(await store.getStep(stepId)).toMatchObject({ logBytes: 14, logSeq: 10, logTruncated: true });
    expect((await collect(store.readLog(stepId))).toString()).toBe('hello\ncut her!');
  });

  it('reads nothing from an empty or unknown log and refuses to append to an unknown step', async () => {
    expect((await collect(store.readLog(stepId))).length).toBe(0);
    expect((await collect(store.readLog(stepId, 0, 100))).length).toBe(0);
    expect((await collect(store.readLog(99_999))).length).toBe(0);
    await expect(store.appendLog(99_999, Buffer.from('x'), 1)).rejects.toMatchObject({ code: 'SHEPHERD_E_NOT_FOUND' });
    await expect(store.setLogSeq(99_999, 1)).rejects.toMatchObject({ code: 'SHEPHERD_E_NOT_FOUND' });
  });

  it('keeps appends to one log in order when they race', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.from(`${String(i).padStart(2, '0')};`));
    await Promise.all(parts.map((part, i) => store.appendLog(stepId, part, i + 1)));
    const text = (await collect(store.readLog(stepId))).toString();
    expect(text.length).toBe(60);
    // Each append is whole and each appears once, whatever order they committed in.
    expect(text.match(/\d\d;/g)!.sort()).toEqual(parts.map((p) => p.toString()));
  });
});
