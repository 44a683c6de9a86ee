import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../master/api/server.js';
import { createTestControl, TEST_TOKEN, type TestControl } from '../master/api/test-control.js';
import { forceBuild, type MasterConnection } from './client.js';
import { subscribeForWait, waitForRequest } from './wait-for-request.js';

let control: TestControl;
let app: FastifyInstance;
let conn: MasterConnection;

beforeAll(async () => {
  control = await createTestControl();
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  conn = { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, token: TEST_TOKEN };
});
afterAll(async () => {
  await app.close();
  await control.close();
});

/** linux-1 connects and the coordinator starts the request's build there; with `finish`, every step succeeds. */
async function startAndFinish(requestId: number, finish: boolean) {
  if (!control.connection('linux-1')) await control.connect('linux-1');
  const build = await control.buildStarted(requestId);
  if (!finish) return build;
  return control.finishBuild(build.id, 'SUCCESS');
}

describe('waitForRequest', () => {
  it('catches up from the request when it subscribes after the build ended', async () => {
    const request = await forceBuild(conn, 'unix-tests', {});
    const build = await startAndFinish(request.id, true);
    const lines: string[] = [];
    const outcome = await waitForRequest(conn, request.id, { progress: (l) => lines.push(l) });
    expect(outcome).toMatchObject({ kind: 'build', build: { id: build.id, result: 'SUCCESS' } });
  });

  it('reconnects when the stream drops and finds the build that ended meanwhile', async () => {
    const subscription = await subscribeForWait(conn);
    const request = await forceBuild(conn, 'unix-tests', {});
    const lines: string[] = [];
    let sawStart!: () => void;
    const started = new Promise<void>((resolve) => (sawStart = resolve));
    const waiting = waitForRequest(conn, request.id, {
      subscription,
      progress: (line) => {
        lines.push(line);
        if (line.includes('started on')) sawStart();
      },
    });
    const build = await startAndFinish(request.id, false);
    await started;
    // The master goes away (as in a restart) while the build runs...
    app.server.closeAllConnections();
    // ...and the build ends before the client is back.
    await control.finishBuild(build.id, 'FAILURE');
    const outcome = await waiting;
    expect(outcome).toMatchObject({ kind: 'build', build: { id: build.id, result: 'FAILURE' } });
    expect(lines.some((line) => line.includes('reconnecting'))).toBe(true);
    expect(lines.filter((line) => line.includes('started on'))).toHaveLength(1);
  });
});
