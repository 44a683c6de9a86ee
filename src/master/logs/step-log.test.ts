/**
 * The step log against a real store: output is announced at once, stored in
 * chunks, acked only once stored, readable across the stored/buffered
 * boundary, and truncated visibly.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import { ManualClock } from '../clock.js';
import { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';
import { FLUSH_BYTES, FLUSH_DELAY_MS, StepLog, truncationMarker } from './step-log.js';

async function collect(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts).toString();
}

describe.each(DATABASES)('StepLog (%s)', (kind) => {
  let store: Store;
  let stepId: number;
  let clock: ManualClock;
  let events: MasterEventBus;
  let acked: number[];

  beforeEach(async () => {
    store = await openTestStore(kind);
    const request = await store.enqueueRequest({ builder: 'b', priority: 0, properties: {}, reason: '', submittedBy: null, submittedAt: 1 });
    const started = await store.startBuild({ requestId: request.id, builder: 'b', worker: 'w', properties: {}, steps: ['s'], startedAt: 1 });
    stepId = started!.steps[0]!.id;
    clock = new ManualClock();
    events = new MasterEventBus();
    acked = [];
  });
  afterEach(async () => {
    await store.close();
  });

  const open = (limit = 1024 * 1024, stored = { bytes: 0, seq: 0, truncated: false }) =>
    new StepLog(stepId, 1, stored, limit, { store, events, clock, logger: pino({ level: 'silent' }), onStored: (seq) => acked.push(seq) });

  it('announces output at once with its offset, stores it after the flush delay, then acks', async () => {
    const log = open();
    const seen: [number, string][] = [];
    events.on('step:output', ({ offset, data }) => seen.push([offset, data.toString()]));
    log.append(1, Buffer.from('one\n'));
    log.append(2, Buffer.from('two\n'));
    expect(seen).toEqual([[0, 'one\n'], [4, 'two\n']]);
    expect(acked).toEqual([]);
    expect(await collect(log.read(0))).toBe('one\ntwo\n'); // still only in memory
    clock.advance(FLUSH_DELAY_MS);
    await log.flush();
    expect(acked).toEqual([2]);
    expect((await store.getStep(stepId))!).toMatchObject({ logBytes: 8, logSeq: 2 });
    expect(await collect(store.readLog(stepId))).toBe('one\ntwo\n');
  });

  it('flushes at once when a chunk fills the buffer, and reads across stored and buffered bytes', async () => {
    const log = open();
    const big = Buffer.alloc(FLUSH_BYTES, 'a');
    log.append(1, big);
    log.append(2, Buffer.from('tail'));
    await log.flush();
    log.append(3, Buffer.from('-more'));
    expect(log.length).toBe(FLUSH_BYTES + 9);
    expect(await collect(log.read(FLUSH_BYTES - 2, FLUSH_BYTES + 7))).toBe('aatail-mo');
  });

  it('drops chunks it already has (a resend after a reconnect)', async () => {
    const log = open(1024, { bytes: 3, seq: 5, truncated: false });
    expect(log.append(5, Buffer.from('old'))).toBe(false);
    expect(log.append(6, Buffer.from('new'))).toBe(true);
    expect(log.length).toBe(6);
  });

  it('stops at the limit behind a marker, still acking what it drops', async () => {
    const log = open(6);
    const truncated: number[] = [];
    events.on('log:truncated', ({ limit }) => truncated.push(limit));
    log.append(1, Buffer.from('abcd'));
    log.append(2, Buffer.from('efgh'));
    log.append(3, Buffer.from('ijkl'));
    await log.flush();
    expect(truncated).toEqual([6]);
    expect(acked.at(-1)).toBe(3);
    expect(await collect(store.readLog(stepId))).toBe(`abcdef${truncationMarker(6).toString()}`);
    expect((await store.getStep(stepId))!.logTruncated).toBe(true);
  });
});
