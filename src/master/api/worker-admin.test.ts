/**
 * What a worker's admin can do with the worker's own secret: pause it (it
 * takes no new builds; its running build finishes), resume it, and set its
 * contact and notes; and how admins show (config first, a mismatch with what
 * the agent reports flagged).
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from './server.js';
import { TEST_CONFIG, TEST_TOKEN, TEST_WORKER_SECRETS, createTestControl, type TestControl } from './test-control.js';

let control: TestControl;
let app: FastifyInstance;

const CONFIG = {
  ...TEST_CONFIG,
  workers: [
    { ...TEST_CONFIG.workers[0]!, admins: ['Ada Lovelace <ada@example.org>'], notes: 'rack 3' },
    TEST_CONFIG.workers[1]!,
  ],
};
const asAdmin = (worker: string) => ({ authorization: `Bearer ${TEST_WORKER_SECRETS.get(worker)}` });

beforeEach(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
});
afterEach(async () => {
  await app.close();
  await control.close();
});

describe("a worker's admin", () => {
  it('pauses the worker with its own secret: no new builds until resumed; the running one finishes', async () => {
    const { build } = await control.startBuild('unix-tests', 'linux-1');
    const paused = await app.inject({ method: 'POST', url: '/api/v1/workers/linux-1/pause', headers: asAdmin('linux-1'), payload: { reason: 'disk swap' } });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ name: 'linux-1', state: 'building', paused: { by: 'admin of linux-1' } });
    expect((await control.finishBuild(build.id)).result).toBe('SUCCESS');

    const request = await control.force({ builder: 'unix-tests', properties: {}, reason: 'waits', submittedBy: null });
    const worker = (await app.inject({ method: 'GET', url: '/api/v1/workers/linux-1' })).json();
    expect(worker.state).toBe('paused');
    expect((await control.store.getRequest(request.id))!.state).toBe('queued');

    const resumed = await app.inject({ method: 'POST', url: '/api/v1/workers/linux-1/resume', headers: { authorization: `Bearer ${TEST_TOKEN}` } });
    expect(resumed.json()).toMatchObject({ paused: null });
    const started = await control.buildStarted(request.id);
    expect(started.worker).toBe('linux-1');
    await control.finishBuild(started.id);
  });

  it("is refused with another worker's secret or none, naming what to pass", async () => {
    for (const headers of [asAdmin('mac-1'), {}, { authorization: 'Bearer nope' }]) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/workers/linux-1/pause', headers, payload: {} });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.message).toContain("worker's own secret");
    }
    expect((await app.inject({ method: 'POST', url: '/api/v1/workers/nope/pause', headers: asAdmin('linux-1'), payload: {} })).statusCode).toBe(404);
  });

  it('sets the contact and notes; the config admins come first, and a different agent-reported admin is flagged', async () => {
    await control.connect('linux-1', { admin: 'Someone Else <else@example.org>' });
    let worker = (await app.inject({ method: 'GET', url: '/api/v1/workers/linux-1' })).json();
    expect(worker).toMatchObject({ admins: ['Ada Lovelace <ada@example.org>'], admin_mismatch: true, notes: 'rack 3' });

    const set = await app.inject({ method: 'POST', url: '/api/v1/workers/mac-1/contact', headers: asAdmin('mac-1'), payload: { contact: 'Grace <grace@example.org>', notes: 'under the desk' } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toMatchObject({ admins: ['Grace <grace@example.org>'], admin_mismatch: false, notes: 'under the desk' });
    const bad = await app.inject({ method: 'POST', url: '/api/v1/workers/mac-1/contact', headers: asAdmin('mac-1'), payload: { contact: 'x' } });
    expect(bad.json().error.details).toMatchObject({ field: 'contact' });
    worker = (await app.inject({ method: 'GET', url: '/api/v1/workers/mac-1' })).json();
    expect(worker.notes).toBe('under the desk');
  });

  it('sets maintenance windows, shown with those of the config and of the agent\'s own config', async () => {
    await control.connect('linux-1', {
      maintenance: [
        { cron: '0 2 * * 0', duration_ms: 3 * 3_600_000 },
        { cron: 'not a cron', duration_ms: 60_000 },
      ],
    });
    const set = await app.inject({
      method: 'POST', url: '/api/v1/workers/linux-1/maintenance', headers: asAdmin('linux-1'),
      payload: { windows: [{ cron: '0 22 * * 5', duration: '2d' }] },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().maintenance).toEqual([
      { cron: '0 2 * * 0', duration_ms: 3 * 3_600_000, from: 'agent' },
      { cron: '0 22 * * 5', duration_ms: 2 * 86_400_000, from: 'admin' },
    ]);
    const bad = await app.inject({
      method: 'POST', url: '/api/v1/workers/linux-1/maintenance', headers: asAdmin('linux-1'),
      payload: { windows: [{ cron: '61 * * * *', duration: '1h' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('windows[0].cron');
    const refused = await app.inject({ method: 'POST', url: '/api/v1/workers/linux-1/maintenance', headers: asAdmin('mac-1'), payload: { windows: [] } });
    expect(refused.statusCode).toBe(401);
    const cleared = await app.inject({ method: 'POST', url: '/api/v1/workers/linux-1/maintenance', headers: { authorization: `Bearer ${TEST_TOKEN}` }, payload: { windows: [] } });
    expect(cleared.json().maintenance).toEqual([{ cron: '0 2 * * 0', duration_ms: 3 * 3_600_000, from: 'agent' }]);
    // Kept across a restart: read back from the store.
    expect((await control.store.getWorkerFlags()).find((f) => f.worker === 'linux-1')?.maintenance).toEqual([]);
  });
});
