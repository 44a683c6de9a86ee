import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { Store } from './store.js';

const T0 = 1_700_000_000_000;

describe.each(DATABASES)('patches on %s', (kind) => {
  let store: Store;

  beforeEach(async () => {
    store = await openTestStore(kind);
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores a patch and reads back exactly its bytes, also ones that are not UTF-8', async () => {
    // Latin-1 and stray high bytes, a NUL, CR LF: what real diffs of old files contain.
    const data = Buffer.concat([
      Buffer.from('diff --git a/x.c b/x.c\r\n+/* caf'),
      Buffer.from([0xe9, 0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28]),
      Buffer.from(' */\n'),
    ]);
    const patch = await store.addPatch({
      source: 'shepherd',
      baseRevision: 'abc123',
      branch: 'main',
      author: 'Zoë <zoe@example.org>',
      comment: 'try this',
      createdAt: T0,
      data,
    });
    expect(patch).toEqual({
      id: expect.any(Number),
      source: 'shepherd',
      baseRevision: 'abc123',
      branch: 'main',
      author: 'Zoë <zoe@example.org>',
      comment: 'try this',
      sizeBytes: data.length,
      createdAt: T0,
    });
    const read = await store.getPatch(patch.id);
    expect(read).toEqual({ ...patch, data: expect.any(Buffer) });
    expect(Buffer.isBuffer(read!.data)).toBe(true);
    expect(read!.data.equals(data)).toBe(true);
    expect(typeof read!.sizeBytes).toBe('number');
    expect(await store.getPatch(patch.id + 1000)).toBeUndefined();
  });

  it('stores an empty patch and a large one', async () => {
    const base = { source: 's', baseRevision: '', branch: 'main', author: 'a', comment: '', createdAt: T0 };
    const empty = await store.addPatch({ ...base, data: Buffer.alloc(0) });
    expect(empty.sizeBytes).toBe(0);
    const readEmpty = await store.getPatch(empty.id);
    expect(Buffer.isBuffer(readEmpty!.data)).toBe(true);
    expect(readEmpty!.data.length).toBe(0);

    const bytes = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131) & 0xff;
    const large = await store.addPatch({ ...base, data: bytes });
    expect(large.sizeBytes).toBe(bytes.length);
    expect((await store.getPatch(large.id))!.data.equals(bytes)).toBe(true);
  });
});
