/**
 * `shepherd force` says why its request waits: against a real master whose
 * on-demand pools (a fixed `LatentControl`) report a backoff for the request,
 * the reason is printed while it waits, then the build starts once a worker
 * connects.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createHttpServer } from '../master/api/server.js';
import { createTestControl, TEST_TOKEN, type TestControl } from '../master/api/test-control.js';
import type { LatentControl } from '../master/latent/pool-service.js';
import { captureCli } from './capture-cli.js';
import { waitingLine } from './request-waiting.js';

const REASON = 'waiting: pool cloud is backing off after 2 failed starts until 12:40 UTC';

let control: TestControl;
let app: FastifyInstance;
let client: string[];

/** Every queued request waits on the backoff. */
const latent: LatentControl = {
  waitingReason: () => REASON,
  instances: async () => [],
  cost: async () => {
    throw new Error('not asked');
  },
};

beforeAll(async () => {
  control = await createTestControl();
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null, latent });
  await app.listen({ host: '127.0.0.1', port: 0 });
  client = ['--master', `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, '--token', TEST_TOKEN];
});
afterAll(async () => {
  await app.close();
  await control.close();
});

const { shepherd, out, err } = captureCli();

/** Resolves once the CLI has printed the reason on stderr, then lets linux-1 take the request. */
async function reasonPrintedThenConnect(): Promise<void> {
  await vi.waitFor(() => expect(err()).toMatch(/request \d+ waiting: pool cloud is backing off/), { timeout: 10_000, interval: 20 });
  await control.connect('linux-1');
}

describe('shepherd force on a request an on-demand pool cannot serve yet', () => {
  it('prints why the request waits, then the build once it starts', async () => {
    const forcing = shepherd('force', 'unix-tests', ...client);
    await reasonPrintedThenConnect();
    expect(await forcing).toBe(0);
    expect(err().match(/waiting: pool cloud/g)).toHaveLength(1);
    expect(out()).toMatch(/^\d+\n$/);
    const requestId = Number(/request (\d+) waiting/.exec(err())![1]);
    const build = await control.buildStarted(requestId);
    await control.finishBuild(build.id, 'SUCCESS');
    control.disconnect('linux-1');
  });

  it('--wait prints it too, while following the events', async () => {
    const forcing = shepherd('force', 'unix-tests', '--wait', ...client);
    await reasonPrintedThenConnect();
    const requestId = Number(/request (\d+) waiting/.exec(err())![1]);
    const build = await control.buildStarted(requestId);
    await control.finishBuild(build.id, 'SUCCESS');
    expect(await forcing).toBe(0);
    expect(err()).toContain(`request ${requestId} ${REASON}\n`);
  });
});

describe('waitingLine', () => {
  it('reports a queued request’s reason once, and again only when it changes', () => {
    const request = { id: 7, state: 'queued' as const, waiting: REASON };
    expect(waitingLine(request, null)).toBe(`request 7 ${REASON}`);
    expect(waitingLine(request, REASON)).toBeUndefined();
    expect(waitingLine({ ...request, waiting: 'waiting: budget 200 reached: no new instance' }, REASON)).toBe('request 7 waiting: budget 200 reached: no new instance');
    expect(waitingLine({ ...request, waiting: null }, null)).toBeUndefined();
    expect(waitingLine({ ...request, waiting: undefined }, null)).toBeUndefined();
    expect(waitingLine({ ...request, state: 'claimed' }, null)).toBeUndefined();
  });
});
