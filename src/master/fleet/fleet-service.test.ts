/**
 * The fleet service over real parts: a real SQLite store in a temporary file
 * (reopened to play a master restart), the real event bus, a real SMTP
 * server. Time is a ManualClock; tests wait on `settled()`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { WorkerView } from '../api/control.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { MasterEventBus, type MasterEvents } from '../events.js';
import { createSmtpMailer } from '../notify/mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../notify/test-servers.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { fleetWorkerOf, startFleet, type FleetService } from './fleet-service.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('fleet service', () => {
  let dbUrl: string;
  let store: Store;
  let clock: ManualClock;
  let events: MasterEventBus;
  let smtp: TestSmtpServer;
  let config: Readonly<Config>;
  let service: FleetService | undefined;
  let views: WorkerView[];
  let changes: MasterEvents['worker:state'][];

  beforeEach(async () => {
    dbUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'shepherd-fleet-')), 'fleet.sqlite')}`;
    store = await openStore(dbUrl);
    clock = new ManualClock(Date.UTC(2026, 10, 1));
    events = new MasterEventBus((_, error) => {
      throw error;
    });
    smtp = await startSmtpServer();
    changes = [];
    events.on('worker:state', (p) => changes.push(p));
    const raw = parseYaml(`
master: { public_url: "https://ci.example.org" }
workers:
  - { name: w1, secret_env: W1, dimensions: { os: linux }, admins: ["Ada <ada@example.org>"] }
  - { name: w2, secret_env: W2, dimensions: { os: linux } }
  - { name: w3, secret_env: W3, dimensions: { os: linux }, admins: ["Cy <cy@example.org>"], missing_after: 10m }
builders:
  - { name: unix, workers: { os: linux }, steps: [{ name: make, run: make }] }
  - { name: only-w1, workers: [w1], steps: [{ name: make, run: make }] }
platforms:
  - { name: linux, select: { os: linux }, tier: 1, redundancy: 3 }
fleet: { announce: [volunteers@example.org], missing_after: 1m, remind_every: 1h, orphan_after: 1d }
`) as Record<string, unknown>;
    config = parseConfig({ ...raw, notify: { mail: { smtp: smtp.url, from: 'Shepherd <shepherd@example.org>' } } }, 'test.yml', '/tmp');
    views = config.workers.map((w) => ({
      name: w.name,
      dimensions: { ...w.dimensions },
      maxBuilds: 1,
      source: 'config',
      instance: null,
      maintenance: w.maintenance.map((m) => ({ cron: m.cron, duration: m.duration, from: 'config' as const })),
      state: 'offline',
      connected: false,
      builds: [],
      info: null,
      protocol: null,
      connectedAt: null,
      lastSeen: null,
      uptime: { d7: 0, d30: 0 },
      buildsRun: 0,
      admins: [...w.admins],
      adminMismatch: false,
      notes: null,
      paused: null,
    }));
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await smtp.close();
    await store.close();
  });

  function start(): FleetService {
    service = startFleet({
      config,
      store,
      events,
      clock,
      logger: pino({ level: 'silent' }),
      mailer: createSmtpMailer(config.notify.mail!, { env: {} }),
      publicUrl: 'https://ci.example.org',
      workers: async () => views.map((v) => ({ ...v })),
    });
    return service;
  }

  /** A master restart: the service and the store closed, both opened again over the same database file. */
  async function restart(): Promise<FleetService> {
    await service!.stop();
    await store.close();
    store = await openStore(dbUrl);
    return start();
  }

  const view = (name: string) => views.find((v) => v.name === name)!;

  async function connect(name: string, info: Record<string, unknown> = {}): Promise<void> {
    await store.recordWorkerConnected(name, info, clock.now());
    Object.assign(view(name), { connected: true, state: 'idle', info, connectedAt: clock.now(), lastSeen: clock.now() });
    events.emit('worker:connected', { worker: name, info });
  }

  async function disconnect(name: string): Promise<void> {
    await store.recordWorkerDisconnected(name, clock.now());
    Object.assign(view(name), { connected: false, state: 'offline', connectedAt: null, lastSeen: clock.now() });
    events.emit('worker:disconnected', { worker: name, reason: 'gone' });
  }

  /** Moves the clock and waits for whatever decisions that set off. */
  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    await service!.settled();
  }

  const brief = () => smtp.messages.map((m) => `${m.subject} → ${m.to.join(', ')}`);

  it('escalates a missing worker once each, across restarts, and tells everyone told when it is back', async () => {
    await connect('w1');
    await connect('w2', { admin: 'Bob <bob@example.org>' });
    await connect('w3');
    start();
    await service!.settled();
    expect(Object.fromEntries(await service!.states())).toEqual({ w1: 'idle', w2: 'idle', w3: 'idle' });

    await disconnect('w1');
    await service!.settled();
    await advance(MINUTE - 1);
    expect(smtp.messages).toEqual([]);
    expect((await service!.states()).get('w1')).toBe('offline');

    await advance(1);
    expect(brief()).toEqual(['[shepherd] worker w1 is missing → ada@example.org']);
    const missing = smtp.messages[0]!;
    expect(missing.text).toContain('since 2026-11-01 00:00:00 UTC (1 minute)');
    expect(missing.text).toContain('Builders with no live worker now: only-w1.');
    expect(missing.text).toContain('linux (tier 1): 2 live of 3 wanted');
    expect(missing.text).toContain('node shepherd-worker.mjs --master wss://ci.example.org --name w1');
    expect(changes).toEqual([{ worker: 'w1', from: 'idle', to: 'offline' }, { worker: 'w1', from: 'offline', to: 'missing' }]);

    await restart();
    await service!.settled();
    await advance(HOUR - 1);
    expect(smtp.messages).toHaveLength(1);
    await advance(1);
    expect(brief().slice(1)).toEqual(['[shepherd] reminder 1: worker w1 is still missing → ada@example.org']);

    // Down for three reminder intervals: one reminder when it comes back, not three.
    await service!.stop();
    clock.advance(3 * HOUR + 5 * MINUTE);
    await restart();
    await service!.settled();
    expect(brief().slice(2)).toEqual(['[shepherd] reminder 4: worker w1 is still missing → ada@example.org']);

    // Hour by hour: each run arms the timer for the next reminder.
    for (let hour = 0; hour < 20; hour++) await advance(HOUR);
    expect(brief().slice(3)).toEqual([
      ...Array.from({ length: 19 }, (_, i) => `[shepherd] reminder ${i + 5}: worker w1 is still missing → ada@example.org`),
      '[shepherd] volunteers wanted: worker w1 is orphaned → volunteers@example.org',
    ]);
    expect((await service!.states()).get('w1')).toBe('orphaned');
    const sentBefore = smtp.messages.length;

    await restart();
    await advance(DAY);
    expect(smtp.messages).toHaveLength(sentBefore);

    await connect('w1');
    await service!.settled();
    expect(brief().slice(sentBefore)).toEqual(['[shepherd] worker w1 is back → ada@example.org, volunteers@example.org']);
    expect((await service!.states()).get('w1')).toBe('idle');
    await restart();
    await advance(DAY);
    expect(smtp.messages).toHaveLength(sentBefore + 1);
  });

  it("mails the agent's reported admin when the config names none, and honours a worker's own missing_after", async () => {
    await connect('w2', { admin: 'Bob <bob@example.org>' });
    await connect('w3');
    start();
    await disconnect('w2');
    await disconnect('w3');
    await service!.settled();
    await advance(MINUTE);
    expect(brief()).toEqual(['[shepherd] worker w2 is missing → bob@example.org']);
    await advance(9 * MINUTE);
    expect(brief().slice(1)).toEqual(['[shepherd] worker w3 is missing → cy@example.org']);
  });

  it('raises nothing for a short disconnect or a paused worker', async () => {
    await connect('w1');
    await connect('w3');
    await store.setWorkerPaused('w3', true, 'Cy', clock.now());
    start();
    await service!.settled();
    await disconnect('w1');
    await disconnect('w3');
    await service!.settled();
    await advance(30_000);
    await connect('w1');
    await service!.settled();
    await advance(2 * DAY);
    expect(smtp.messages).toEqual([]);
    expect(Object.fromEntries(await service!.states())).toMatchObject({ w1: 'idle', w3: 'paused' });
  });

  it('goes quiet when the admin pauses a missing worker, and resumes reminding after', async () => {
    await connect('w1');
    start();
    await disconnect('w1');
    await service!.settled();
    await advance(MINUTE);
    expect(smtp.messages).toHaveLength(1);
    // As the coordinator does it: the flag stored, the view paused, the change announced.
    await store.setWorkerPaused('w1', true, 'Ada', clock.now());
    view('w1').paused = { by: 'Ada', at: clock.now() };
    events.emit('worker:state', { worker: 'w1', from: 'offline', to: 'paused' });
    await service!.settled();
    expect((await service!.states()).get('w1')).toBe('paused');
    await advance(HOUR);
    await advance(HOUR);
    expect(smtp.messages).toHaveLength(1);
    await store.setWorkerPaused('w1', false, 'Ada', clock.now());
    view('w1').paused = null;
    events.emit('worker:state', { worker: 'w1', from: 'paused', to: 'offline' });
    await service!.settled();
    expect(brief().slice(1)).toEqual(['[shepherd] reminder 2: worker w1 is still missing → ada@example.org']);
    expect(changes.slice(-1)).toEqual([{ worker: 'w1', from: 'offline', to: 'missing' }]);
  });

  it('retries a mail the server did not take, and records it only once delivered', async () => {
    await connect('w1');
    start();
    await disconnect('w1');
    await service!.settled();
    const port = Number(new URL(smtp.url).port);
    await smtp.close();
    await advance(MINUTE);
    expect(await store.listAlerts({ worker: 'w1' })).toEqual([]);
    // The server is back on the same port (smtp-server directly: the shared helper picks its own port).
    const received: string[][] = [];
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          received.push(session.envelope.rcptTo.map((r) => r.address));
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await advance(30_000);
      expect(received).toEqual([['ada@example.org']]);
      expect(await store.listAlerts({ worker: 'w1' })).toMatchObject([{ kind: 'missing', episode: clock.now() - MINUTE - 30_000 }]);
      await advance(59 * MINUTE);
      expect(received).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      smtp = await startSmtpServer();
    }
  });
});

describe('fleetWorkerOf', () => {
  it("takes the worker's maintenance windows from its view: the config's, the agent's and its admin's (none without)", () => {
    const view = {
      name: 'w1', dimensions: {}, admins: [], connected: false, state: 'offline', info: null, paused: null,
      maintenance: [
        { cron: '0 2 * * 0', duration: 3 * HOUR, from: 'config' },
        { cron: '0 3 * * 1', duration: HOUR, from: 'agent' },
        { cron: '0 4 * * 2', duration: 2 * HOUR, from: 'admin' },
      ],
    } as unknown as WorkerView;
    const context = { fleetMissingAfter: HOUR, disconnectSeen: undefined, now: DAY };
    expect(fleetWorkerOf(view, undefined, undefined, false, context).maintenance).toEqual([
      { cron: '0 2 * * 0', duration: 3 * HOUR },
      { cron: '0 3 * * 1', duration: HOUR },
      { cron: '0 4 * * 2', duration: 2 * HOUR },
    ]);
    expect(fleetWorkerOf({ ...view, maintenance: [] }, undefined, undefined, false, context).maintenance).toEqual([]);
  });
});
