/**
 * Joining the farm through the API, over the real coordinator and store, a
 * real SMTP server and a ManualClock: a volunteer offers a worker, operators
 * hear of it (and are reminded, never twice for one reminder, restart or
 * not), approve it under a name, the volunteer collects the secret exactly
 * once, and the worker exists next to the config file's until retired.
 */
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Coordinator } from '../builds/coordinator.js';
import { ManualClock } from '../clock.js';
import { Applications } from '../fleet/applications.js';
import { createSmtpMailer } from '../notify/mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../notify/test-servers.js';
import { createHttpServer } from './server.js';
import { TEST_CONFIG, TEST_TOKEN, createTestControl, type TestControl } from './test-control.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const asOperator = { authorization: `Bearer ${TEST_TOKEN}` };
const OFFER = {
  name: 'ada-s390x',
  dimensions: { os: 'linux', arch: 's390x' },
  contact: 'Ada Lovelace <ada@example.org>',
  notes: 'In my basement; up on weekdays.',
};

let smtp: TestSmtpServer;
let clock: ManualClock;
let control: TestControl;
let applications: Applications;
let app: FastifyInstance;

async function start(fleet: Record<string, unknown> = {}): Promise<void> {
  const config = {
    ...TEST_CONFIG,
    platforms: [{ name: 'linux-s390x', select: { os: 'linux', arch: 's390x' }, tier: 2, redundancy: 1 }],
    fleet: { operators: ['Victor <victor@example.org>'], remind_every: '1d', ...fleet },
    notify: { mail: { smtp: smtp.url, from: 'Shepherd <shepherd@example.org>' } },
  };
  control = await createTestControl({ config, clock });
  applications = newApplications();
  applications.start();
  app = await createHttpServer(control, {
    logger: false,
    registry: new Registry(),
    onWorkerSocket: (s) => s.close(),
    webRoot: null,
    applications,
    publicUrl: () => 'https://ci.example.org',
  });
}

function newApplications(): Applications {
  return new Applications({
    config: control.config,
    store: control.store,
    events: control.events,
    clock,
    logger: pino({ level: 'silent' }),
    publicUrl: 'https://ci.example.org',
    mailer: createSmtpMailer(control.config.notify.mail!, { env: {} }),
    directory: control,
  });
}

async function offer(body: Record<string, unknown> = OFFER): Promise<{ id: number; token: string }> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/applications', payload: body });
  expect(response.statusCode, response.body).toBe(201);
  const reply = response.json();
  return { id: reply.application.id, token: reply.token };
}

const status = (id: number, token: string) =>
  app.inject({ method: 'POST', url: `/api/v1/applications/${id}/status`, headers: { authorization: `Bearer ${token}` } });

beforeEach(async () => {
  smtp = await startSmtpServer();
  clock = new ManualClock(Date.UTC(2026, 10, 28, 9));
});
afterEach(async () => {
  await applications?.stop();
  await app?.close();
  await control?.close();
  await smtp.close();
});

describe('joining the farm', () => {
  it('refuses a bad offer naming the field, and a name already taken', async () => {
    await start();
    const bad = await app.inject({ method: 'POST', url: '/api/v1/applications', payload: { ...OFFER, contact: 'Ada' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('contact');
    const badName = await app.inject({ method: 'POST', url: '/api/v1/applications', payload: { ...OFFER, name: '../etc' } });
    expect(badName.json().error.details.field).toBe('name');
    const taken = await app.inject({ method: 'POST', url: '/api/v1/applications', payload: { ...OFFER, name: 'linux-1' } });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toMatchObject({ message: expect.stringContaining('"linux-1" already exists'), details: { field: 'name' } });
    await offer();
    const twice = await app.inject({ method: 'POST', url: '/api/v1/applications', payload: OFFER });
    expect(twice.statusCode).toBe(409);
  });

  it('tells operators, reminds them once per interval across a restart, and lets only them list and decide', async () => {
    await start();
    const { id } = await offer();
    const [first] = await smtp.waitFor(1);
    expect(first!.to).toEqual(['victor@example.org']);
    expect(first!.subject).toBe('[shepherd] New worker offered: ada-s390x (arch=s390x, os=linux)');
    expect(first!.text).toContain('Platforms:   linux-s390x');

    expect((await app.inject({ method: 'GET', url: '/api/v1/applications' })).statusCode).toBe(401);
    const list = (await app.inject({ method: 'GET', url: '/api/v1/applications?state=pending', headers: asOperator })).json();
    expect(list.applications).toMatchObject([{ id, name: 'ada-s390x', state: 'pending', contact: OFFER.contact, platforms: ['linux-s390x'] }]);
    expect(JSON.stringify(list)).not.toContain('token');

    await applications.settled();
    await clock.advance(DAY);
    await applications.settled();
    await smtp.waitFor(2);
    expect(smtp.messages[1]!.subject).toContain('Reminder: worker ada-s390x offered 1 day ago');

    // A restarted master (a new service over the same store) repeats nothing.
    await applications.stop();
    applications = newApplications();
    applications.start();
    await applications.settled();
    await clock.advance(HOUR);
    await applications.settled();
    expect(smtp.messages).toHaveLength(2);

    const declined = await app.inject({ method: 'POST', url: `/api/v1/applications/${id}/decline`, payload: { reason: 'no' } });
    expect(declined.statusCode).toBe(401);
  });

  it('approves under a new name: the volunteer collects the secret once, and the worker may connect with it', async () => {
    await start();
    const { id, token } = await offer();
    expect((await status(id, 'wrong-token')).statusCode).toBe(401);
    expect((await status(id, token)).json()).toMatchObject({ state: 'pending', secret: null });

    const approved = await app.inject({
      method: 'POST', url: `/api/v1/applications/${id}/approve`, headers: asOperator, payload: { name: 'ada-zlinux', by: 'victor' },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ state: 'approved', worker: 'ada-zlinux', decided_by: 'victor' });
    const again = await app.inject({ method: 'POST', url: `/api/v1/applications/${id}/approve`, headers: asOperator, payload: {} });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toBe('application 1 was already approved by victor');

    const worker = (await app.inject({ method: 'GET', url: '/api/v1/workers/ada-zlinux' })).json();
    expect(worker).toMatchObject({ source: 'registered', state: 'offline', admins: [OFFER.contact], dimensions: OFFER.dimensions, notes: OFFER.notes });
    expect(control.verifyWorker('ada-zlinux', 'anything')).toBe('uncollected');

    const collected = (await status(id, token)).json();
    expect(collected).toMatchObject({ state: 'approved', worker: 'ada-zlinux', secret_collected_at: clock.now() });
    expect(collected.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(collected.command).toContain(`SHEPHERD_WORKER_SECRET=${collected.secret} node shepherd-worker.mjs --config worker.yml`);
    expect(collected.command).toContain('curl -fsSLO https://ci.example.org/worker/shepherd-worker.mjs');
    expect(collected.config).toContain('master: wss://ci.example.org\nname: ada-zlinux\nsecret_env: SHEPHERD_WORKER_SECRET');
    expect(control.verifyWorker('ada-zlinux', collected.secret)).toBe('ok');
    expect(control.verifyWorker('ada-zlinux', 'guess')).toBe('wrong');

    const later = (await status(id, token)).json();
    expect(later).toMatchObject({ state: 'approved', secret: null, command: null, secret_collected_at: collected.secret_collected_at });

    // Operator notice, then the decision to the volunteer.
    const mails = await smtp.waitFor(2);
    expect(mails[1]!.to).toEqual(['ada@example.org']);
    expect(mails[1]!.subject).toBe('[shepherd] Your worker ada-zlinux was approved');

    // Its admin manages it with its own secret, like a config worker's.
    const paused = await app.inject({ method: 'POST', url: '/api/v1/workers/ada-zlinux/pause', headers: { authorization: `Bearer ${collected.secret}` }, payload: {} });
    expect(paused.json()).toMatchObject({ state: 'paused', paused: { by: 'admin of ada-zlinux' } });
  });

  it('tells a declined volunteer why', async () => {
    await start();
    const { id, token } = await offer();
    const declined = await app.inject({ method: 'POST', url: `/api/v1/applications/${id}/decline`, headers: asOperator, payload: { reason: 'We have three already.' } });
    expect(declined.json()).toMatchObject({ state: 'declined', reason: 'We have three already.', decided_by: 'operator' });
    expect((await status(id, token)).json()).toMatchObject({ state: 'declined', reason: 'We have three already.', secret: null });
    const mails = await smtp.waitFor(2);
    expect(mails[1]).toMatchObject({ to: ['ada@example.org'], subject: '[shepherd] Your offer of worker ada-s390x was declined' });
    // The name is free again.
    await offer();
  });

  it('refuses offers when joining is closed or too many wait', async () => {
    await start({ join: { open: false } });
    const closed = await app.inject({ method: 'POST', url: '/api/v1/applications', payload: OFFER });
    expect(closed.statusCode).toBe(403);
    expect(closed.json().error.message).toContain('fleet.join.open');
    await applications.stop();
    await app.close();
    await control.close();

    await start({ join: { max_pending: 1 } });
    await offer();
    const full = await app.inject({ method: 'POST', url: '/api/v1/applications', payload: { ...OFFER, name: 'another' } });
    expect(full.statusCode).toBe(429);
  });

  it('retires a registered worker, keeping its history; a config worker is refused', async () => {
    await start();
    const { id, token } = await offer();
    await app.inject({ method: 'POST', url: `/api/v1/applications/${id}/approve`, headers: asOperator, payload: {} });
    const { secret } = (await status(id, token)).json();

    const { build } = await control.startBuild('unix-tests', 'ada-s390x');
    const busy = await app.inject({ method: 'POST', url: '/api/v1/workers/ada-s390x/retire', headers: asOperator, payload: {} });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error.message).toContain('running builds');
    await control.finishBuild(build.id);

    const configWorker = await app.inject({ method: 'POST', url: '/api/v1/workers/linux-1/retire', headers: asOperator, payload: {} });
    expect(configWorker.statusCode).toBe(409);
    expect(configWorker.json().error.message).toContain('config file');

    const retired = await app.inject({ method: 'POST', url: '/api/v1/workers/ada-s390x/retire', headers: asOperator, payload: { by: 'victor' } });
    expect(retired.statusCode, retired.body).toBe(200);
    expect(retired.json()).toMatchObject({ name: 'ada-s390x', retired_by: 'victor', builds_run: 1 });
    expect(control.verifyWorker('ada-s390x', secret)).toBe('unknown');
    expect((await app.inject({ method: 'GET', url: '/api/v1/workers/ada-s390x' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/api/v1/retired-workers' })).json().workers).toMatchObject([{ name: 'ada-s390x', builds_run: 1 }]);
    expect((await app.inject({ method: 'GET', url: '/api/v1/builds?worker=ada-s390x' })).json().builds).toHaveLength(1);
    expect((await app.inject({ method: 'POST', url: '/api/v1/workers/ada-s390x/retire', headers: asOperator, payload: {} })).statusCode).toBe(409);
    // Its name stays taken: the history stays unambiguous.
    expect((await app.inject({ method: 'POST', url: '/api/v1/applications', payload: OFFER })).statusCode).toBe(409);
  });

  it('brings registered workers back after a restart, and refuses a config worker of the same name', async () => {
    await start();
    const { id } = await offer();
    await app.inject({ method: 'POST', url: `/api/v1/applications/${id}/approve`, headers: asOperator, payload: {} });
    const registered = await control.store.listRegisteredWorkers();
    const deps = { config: control.config, store: control.store, events: control.events, clock, logger: pino({ level: 'silent' }), apiToken: null };
    const restarted = new Coordinator({ ...deps, registered });
    expect((await restarted.workers()).map((w) => [w.name, w.source])).toContainEqual(['ada-s390x', 'registered']);
    const clashing = { ...registered[0]!, name: 'linux-1' };
    expect(() => new Coordinator({ ...deps, registered: [clashing] })).toThrow(/registered \(application 1\) and is also a worker in the config file/);
  });
});
