/**
 * Files from a real worker process (the one-file bundle) to the master's
 * real connection handling, upload sink, store and HTTP routes, over a real
 * socket: a step's artifact is stored byte for byte and an oversized one is
 * listed as skipped, all before the step's end is reported. The session
 * handler here is a small scripted stand-in for the coordinator (it starts
 * one step with a `collect`, as the coordinator does once wired, and waits
 * for the sink before it records the step), so this runs with or without
 * the coordinator's wiring. `test/artifacts-e2e.test.ts` covers the whole
 * master process.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { MAX_FRAME_BYTES, type StepOutcome } from '../src/protocol/index.js';
import { createHttpServer } from '../src/master/api/server.js';
import { createTestControl, type TestControl } from '../src/master/api/test-control.js';
import { systemClock } from '../src/master/clock.js';
import { MasterEventBus } from '../src/master/events.js';
import { UploadSink } from '../src/master/files/upload-sink.js';
import { acceptAgentSocket } from '../src/master/workers/agent-connection.js';
import type { ConnectedWorker, WorkerSessionHandler } from '../src/master/workers/connected-worker.js';
import { ROOT, secret, startWorkerProcess, tempDir, waitFor } from './helpers/farm.js';

beforeAll(() => {
  // The bundle under test is the worker as it is in this tree.
  execFileSync(process.execPath, [join(ROOT, 'scripts/bundle-worker.mjs')], { stdio: 'inherit' });
});

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups = [];
});

describe('a real worker sends files back', () => {
  it('stores an artifact byte for byte and lists an oversized one as skipped, before the step ends', async () => {
    const dir = tempDir();
    const control: TestControl = await createTestControl({
      config: {
        master: { data_dir: join(dir, 'data') },
        workers: [{ name: 'w1', secret_env: 'W1' }],
        builders: [{ name: 'b', workers: ['w1'], steps: [{ name: 'make', run: 'make' }] }],
      },
    });
    cleanups.push(() => control.close());
    // A build running on w1, as the coordinator would have started it.
    const { build, steps } = await control.startBuild('b', 'w1');
    control.disconnect('w1');
    const stepId = steps[0]!.id;

    const logger = pino({ level: 'silent' });
    const sink = new UploadSink({ store: control.store, dataDir: control.config.master.data_dir, clock: systemClock, logger, maxFileBytes: 1024 * 1024, maxBuildBytes: 10 * 1024 * 1024 });
    let finished: { outcome: StepOutcome; settledFirst: boolean } | undefined;
    const workerSecret = secret();
    const start = (worker: ConnectedWorker) =>
      worker.startStep(stepId, build.id, {
        run: 'mkdir -p out && head -c 300000 /dev/urandom > out/report.bin && head -c 2000000 /dev/zero > out/core && echo done',
        env: {},
        workdir: '.',
        builder_dir: 'b',
        timeout_ms: 0,
        max_time_ms: 0,
        collect: [{ kind: 'artifact', globs: ['out/*'], max_file_bytes: 1024 * 1024, max_total_bytes: 10 * 1024 * 1024 }],
      });
    const handler: WorkerSessionHandler = {
      async attach(worker: ConnectedWorker) {
        // After the welcome, as the coordinator dispatches.
        setImmediate(() => start(worker));
        return [];
      },
      output() {},
      stepFinished(worker, id, _lastSeq, outcome) {
        // What the coordinator does before deciding the step's result.
        void sink.settled(id).then(async () => {
          const files = await control.store.listStepFiles({ stepId: id });
          finished = { outcome, settledFirst: files.length === 2 };
          worker.release(id);
        });
      },
      detach() {},
    };
    const server: Server = createServer();
    const wss = new WebSocketServer({ server, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
    wss.on('connection', (socket) =>
      acceptAgentSocket(
        socket,
        'test',
        { verify: (name, s) => ({ verdict: name === 'w1' && s === workerSecret ? 'ok' : 'unknown' }), handler, events: new MasterEventBus(), clock: systemClock, logger, heartbeatMs: 30_000, sink },
        () => {},
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => server.close(resolve));
    });

    const workerDir = join(dir, 'worker');
    const worker = startWorkerProcess({ master: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, name: 'w1', secret: workerSecret, dir: workerDir });
    cleanups.push(() => worker.stop());
    const done = await waitFor('the step to be recorded', () => finished, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; the worker said:\n${worker.stderr}`);
    });
    expect(done.outcome).toMatchObject({ exit_code: 0 });
    expect(done.settledFirst).toBe(true);

    const app: FastifyInstance = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
    await app.listen({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => app.close());
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const list = (await (await fetch(`${base}/api/v1/builds/${build.id}/artifacts`)).json()) as { artifacts: { name: string; size: number; skipped: string | null; url: string | null }[] };
    expect(list.artifacts.map((a) => [a.name, a.size, a.skipped])).toEqual([
      ['out/core', 2_000_000, 'larger than the limit of 1 MiB per file'],
      ['out/report.bin', 300_000, null],
    ]);
    const download = await fetch(`${base}${list.artifacts[1]!.url}`);
    expect(download.headers.get('content-length')).toBe('300000');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.equals(readFileSync(join(workerDir, 'b', 'out', 'report.bin')))).toBe(true);
    expect(worker.stderr).toMatch(/step \d+ \(build \d+\): exit 0/);
  });
});
