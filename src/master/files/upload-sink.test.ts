import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestStore } from '../../../test/helpers/databases.js';
import { ProtocolError } from '../../protocol/index.js';
import { ManualClock } from '../clock.js';
import type { Step } from '../domain.js';
import type { Store } from '../store/store.js';
import { StoredFiles } from './stored-files.js';
import { UploadSink, type UploadReceiver } from './upload-sink.js';

const T0 = 1_700_000_000_000;

let store: Store;
let dataDir: string;
let sink: UploadSink;
let buildId: number;
let steps: Step[];
let failures: string[];
let receiver: UploadReceiver;

async function startBuild(worker: string): Promise<{ buildId: number; steps: Step[] }> {
  const request = await store.enqueueRequest({ builder: 'b', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: T0 });
  const started = (await store.startBuild({ requestId: request.id, builder: 'b', worker, properties: {}, steps: ['make', 'test'], startedAt: T0 }))!;
  const running = await store.markStepStarted(started.steps[0]!.id, { command: 'make', workdir: '.', startedAt: T0 });
  return { buildId: started.build.id, steps: [running, started.steps[1]!] };
}

function makeSink(limits: { maxFileBytes?: number; maxBuildBytes?: number } = {}): UploadSink {
  return new UploadSink({
    store,
    dataDir,
    clock: new ManualClock(T0),
    logger: pino({ level: 'silent' }),
    maxFileBytes: limits.maxFileBytes ?? 1024 * 1024,
    maxBuildBytes: limits.maxBuildBytes ?? 10 * 1024 * 1024,
  });
}

beforeEach(async () => {
  store = await openTestStore('sqlite');
  dataDir = mkdtempSync(join(tmpdir(), 'shepherd-files-'));
  sink = makeSink();
  ({ buildId, steps } = await startBuild('w1'));
  failures = [];
  receiver = sink.receiver('w1', (error) => failures.push(error.message));
});

afterEach(async () => {
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const tmpFiles = () => readdirSync(join(dataDir, 'files', 'tmp'));

/** Sends a whole file in chunks of `chunk` bytes. */
function upload(r: UploadReceiver, id: number, name: string, data: Buffer, chunk = 4, kind: 'artifact' | 'test_results' = 'artifact'): void {
  const stepId = steps[0]!.id;
  r.begin({ type: 'upload_begin', step_id: stepId, upload_id: id, kind, name, size: data.length });
  for (let offset = 0; offset < data.length; offset += chunk) {
    r.data({ kind: 'upload', upload_id: id, offset }, data.subarray(offset, offset + chunk));
  }
  r.end({ type: 'upload_end', step_id: stepId, upload_id: id });
}

describe('the upload sink', () => {
  it('stores a file under DATA_DIR/files/BUILD/STEP/KIND/NAME and records it; readers find it', async () => {
    const data = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0, 7, 9]);
    upload(receiver, 1, 'out/deep/core.bin', data);
    upload(receiver, 2, 'junit.xml', Buffer.from('<testsuite/>'), 5, 'test_results');
    await sink.settled(steps[0]!.id);
    const stepId = steps[0]!.id;
    const path = `files/${buildId}/${stepId}/artifact/out/deep/core.bin`;
    expect(readFileSync(join(dataDir, path)).equals(data)).toBe(true);
    const files = new StoredFiles({ store, dataDir });
    const listed = await files.list(buildId);
    expect(listed).toEqual([
      { id: expect.any(Number), buildId, stepId, kind: 'artifact', name: 'out/deep/core.bin', size: 10, path, createdAt: T0, skipped: null },
      expect.objectContaining({ kind: 'test_results', name: 'junit.xml', size: 12 }),
    ]);
    expect((await files.read((await files.forStep(stepId, 'test_results'))[0]!.id)).toString()).toBe('<testsuite/>');
    const opened = await files.open(listed[0]!.id);
    expect(opened.size).toBe(10);
    opened.stream.destroy();
    expect(tmpFiles()).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('records files announced as skipped, and files the agent could not read to the end', async () => {
    const stepId = steps[0]!.id;
    receiver.skipped({ type: 'upload_skipped', step_id: stepId, kind: 'artifact', name: 'core', size: 5e9, reason: 'larger than the limit of 100 MiB per file' });
    receiver.begin({ type: 'upload_begin', step_id: stepId, upload_id: 3, kind: 'artifact', name: 'shrunk.log', size: 10 });
    receiver.data({ kind: 'upload', upload_id: 3, offset: 0 }, Buffer.from('abc'));
    receiver.end({ type: 'upload_end', step_id: stepId, upload_id: 3, failed: 'it shrank from 10 to 3 bytes while it was sent' });
    await sink.settled(stepId);
    expect((await store.listStepFiles({ stepId })).map((f) => [f.name, f.size, f.path, f.skipped])).toEqual([
      ['core', 5e9, null, 'larger than the limit of 100 MiB per file'],
      ['shrunk.log', 10, null, 'it shrank from 10 to 3 bytes while it was sent'],
    ]);
    await expect(new StoredFiles({ store, dataDir }).open((await store.listStepFiles({ stepId }))[0]!.id)).rejects.toThrow(/core of build \d+ was not stored: larger than/);
    expect(tmpFiles()).toEqual([]);
  });

  it('records files past the build limit as skipped instead of storing them', async () => {
    sink = makeSink({ maxBuildBytes: 15 });
    receiver = sink.receiver('w1', (error) => failures.push(error.message));
    upload(receiver, 1, 'a.log', Buffer.alloc(10, 0x61));
    upload(receiver, 2, 'b.log', Buffer.alloc(10, 0x62));
    upload(receiver, 3, 'c.log', Buffer.alloc(5, 0x63));
    await sink.settled(steps[0]!.id);
    expect((await store.listStepFiles({ buildId })).map((f) => [f.name, f.skipped])).toEqual([
      ['a.log', null],
      ['b.log', "past the build's limit of 15 B for its files (artifacts.max_build)"],
      ['c.log', null],
    ]);
    expect(existsSync(join(dataDir, 'files', String(buildId), String(steps[0]!.id), 'artifact', 'b.log'))).toBe(false);
    expect(failures).toEqual([]);
  });

  it('refuses lies as protocol errors that name what was wrong', () => {
    const stepId = steps[0]!.id;
    const begin = (upload_id: number, name: string, size = 4) => receiver.begin({ type: 'upload_begin', step_id: stepId, upload_id, kind: 'artifact', name, size });
    expect(() => begin(1, '../../etc/passwd')).toThrow(new ProtocolError('upload_begin 1: file name "../../etc/passwd" has a ".." path segment'));
    expect(() => begin(1, '/etc/passwd')).toThrow(/is absolute/);
    expect(() => begin(1, 'a\0b')).toThrow(/NUL/);
    expect(() => begin(1, 'a//b')).toThrow(/empty path segment/);
    expect(() => begin(1, 'big', 2 * 1024 * 1024)).toThrow(/announces 2097152 bytes, more than the master's limit of 1048576 per file \(artifacts\.max_file\)/);
    begin(1, 'ok.log');
    expect(() => begin(1, 'again.log')).toThrow(/upload 1 is already open/);
    expect(() => receiver.data({ kind: 'upload', upload_id: 9, offset: 0 }, Buffer.from('x'))).toThrow(/upload 9, which is not open/);
    expect(() => receiver.data({ kind: 'upload', upload_id: 1, offset: 2 }, Buffer.from('x'))).toThrow('upload 1 (ok.log): a frame at offset 2, expected 0');
    receiver.data({ kind: 'upload', upload_id: 1, offset: 0 }, Buffer.from('abc'));
    expect(() => receiver.data({ kind: 'upload', upload_id: 1, offset: 3 }, Buffer.from('de'))).toThrow('upload 1 (ok.log): 5 bytes, more than the 4 announced');
    expect(() => receiver.end({ type: 'upload_end', step_id: stepId, upload_id: 1 })).toThrow('upload_end 1 (ok.log): 3 bytes received of the 4 announced');
    expect(() => receiver.end({ type: 'upload_end', step_id: stepId + 1, upload_id: 1 })).toThrow(/step \d+, but the upload began for step \d+/);
  });

  it("closes a worker's connection that sends files for another worker's step, and removes its partial files", async () => {
    const other = await startBuild('w2');
    receiver.begin({ type: 'upload_begin', step_id: other.steps[0]!.id, upload_id: 1, kind: 'artifact', name: 'x', size: 100 });
    receiver.data({ kind: 'upload', upload_id: 1, offset: 0 }, Buffer.from('x'));
    await sink.settled(other.steps[0]!.id);
    expect(failures).toEqual([`files for step ${other.steps[0]!.id}, which is not a step of a build on worker w1`]);
    receiver.close();
    await sink.settled(other.steps[0]!.id);
    expect(tmpFiles()).toEqual([]);
    expect(await store.listStepFiles({})).toEqual([]);
  });

  it('refuses a second file of one name for a step', async () => {
    upload(receiver, 1, 'a.log', Buffer.from('first'));
    await sink.settled(steps[0]!.id);
    upload(receiver, 2, 'a.log', Buffer.from('second'));
    await sink.settled(steps[0]!.id);
    expect(failures).toEqual([`upload_end 2: step ${steps[0]!.id} already has artifact file a.log`]);
    expect(readFileSync(join(dataDir, 'files', String(buildId), String(steps[0]!.id), 'artifact', 'a.log'), 'utf8')).toBe('first');
  });

  it('abandons uploads cut by a closed connection: nothing recorded, nothing left', async () => {
    const stepId = steps[0]!.id;
    receiver.begin({ type: 'upload_begin', step_id: stepId, upload_id: 1, kind: 'artifact', name: 'half.bin', size: 100 });
    receiver.data({ kind: 'upload', upload_id: 1, offset: 0 }, Buffer.alloc(50));
    receiver.close();
    await sink.settled(stepId);
    expect(await store.listStepFiles({ stepId })).toEqual([]);
    expect(tmpFiles()).toEqual([]);
    expect(existsSync(join(dataDir, 'files', String(buildId)))).toBe(false);
  });

  it('drops files of a step that is no longer running, without closing the connection', async () => {
    const stepId = steps[0]!.id;
    await store.finishStep(stepId, { result: 'RETRY', exitCode: null, signal: null, summary: 'lost', finishedAt: T0 });
    upload(receiver, 1, 'late.log', Buffer.from('late'));
    await sink.settled(stepId);
    expect(await store.listStepFiles({ stepId })).toEqual([]);
    expect(failures).toEqual([]);
    expect(tmpFiles()).toEqual([]);
  });

  it('removes partial uploads a previous master left behind', () => {
    const leftover = join(dataDir, 'files', 'tmp', 'stale');
    writeFileSync(leftover, 'x');
    makeSink();
    expect(tmpFiles()).toEqual([]);
  });
});
