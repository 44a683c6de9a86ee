/**
 * The digest service over real parts: a real SQLite store in a temporary
 * file (reopened to play a master restart) and a real SMTP server. Time is
 * a ManualClock; tests wait on `settled()`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WorkerView } from '../api/control.js';
import type { HealthJson } from '../api/schemas.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createSmtpMailer } from '../notify/mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../notify/test-servers.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { DIGEST_WORKER, startDigest, suspectPauser, type DigestService } from './digest-service.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SUNDAY_2359 = Date.UTC(2026, 10, 29, 23, 59); // 2026-11-29 is a Sunday
const MONDAY_0800 = Date.UTC(2026, 10, 30, 8);

function healthOf(suspects: HealthJson['suspect_workers'] = []): HealthJson {
  return {
    score: suspects.length > 0 ? 90 : 100,
    platforms: [],
    red_builders: [],
    stale_builders: [],
    suspect_workers: suspects,
    missing_workers: [],
    worker_states: {},
    attention: [],
    queue_waits: [],
  };
}

function suspectW2(since: number): HealthJson['suspect_workers'][number] {
  return {
    worker: 'w2',
    count: 3,
    since,
    evidence: [{ builder: 'unix', revision: 'r1', failed_at: since, failed_build_id: 5, passed_on: 'w1', passed_build_id: 6 }],
  };
}

describe('digest service', () => {
  let dbUrl: string;
  let store: Store;
  let clock: ManualClock;
  let smtp: TestSmtpServer;
  let config: Readonly<Config>;
  let service: DigestService | undefined;
  let health: HealthJson;
  let pauses: string[];

  beforeEach(async () => {
    dbUrl = `sqlite:${join(mkdtempSync(join(tmpdir(), 'shepherd-digest-')), 'digest.sqlite')}`;
    store = await openStore(dbUrl);
    clock = new ManualClock(SUNDAY_2359);
    smtp = await startSmtpServer();
    health = healthOf();
    pauses = [];
    config = parseConfig(
      {
        workers: [
          { name: 'w1', secret_env: 'W1', dimensions: { os: 'linux' } },
          { name: 'w2', secret_env: 'W2', dimensions: { os: 'linux' }, admins: ['Bob <bob@example.org>'] },
        ],
        fleet: { announce: ['volunteers@example.org'] },
        notify: { mail: { smtp: smtp.url, from: 'Shepherd <shepherd@example.org>' } },
      },
      'test.yml',
      '/tmp',
    );
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await smtp.close();
    await store.close();
  });

  /** The workers as the coordinator shows them: paused as the store's flags say (`pause` below writes them). */
  const views = async (): Promise<WorkerView[]> => {
    const flags = new Map((await store.getWorkerFlags()).map((f) => [f.worker, f]));
    return config.workers.map((w) => ({
      name: w.name,
      dimensions: { ...w.dimensions },
      maxBuilds: 1,
      source: 'config',
      instance: null,
      maintenance: w.maintenance.map((m) => ({ cron: m.cron, duration: m.duration, from: 'config' as const })),
      state: 'idle',
      connected: true,
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
      paused: flags.get(w.name)?.paused ? { by: flags.get(w.name)!.pausedBy, at: flags.get(w.name)!.pausedAt } : null,
    }));
  };

  /** What the master passes as `pause`: the coordinator's `setPaused(worker, true, by)`, which writes the same flags. */
  async function pause(worker: string, by: string): Promise<void> {
    pauses.push(`${worker} by ${by}`);
    await store.setWorkerPaused(worker, true, by, clock.now());
  }

  /** The config with `fleet.health.auto_pause_suspects` set. */
  function autoPause(): void {
    config = parseConfig(
      {
        workers: config.workers.map((w) => ({ name: w.name, secret_env: w.secret_env, dimensions: w.dimensions, admins: w.admins })),
        fleet: { announce: ['volunteers@example.org'], health: { auto_pause_suspects: true } },
        notify: { mail: { smtp: smtp.url, from: 'Shepherd <shepherd@example.org>' } },
      },
      'test.yml',
      '/tmp',
    );
  }

  async function start(options: { mailer?: boolean } = {}): Promise<DigestService> {
    const mailer = options.mailer === false ? undefined : createSmtpMailer(config.notify.mail!, { env: {} });
    service = startDigest({
      config,
      store,
      clock,
      logger: pino({ level: 'silent' }),
      ...(mailer ? { mailer } : {}),
      publicUrl: 'https://ci.example.org',
      readHealth: async () => health,
      workers: views,
      pause,
    });
    await service.settled();
    return service;
  }

  /** A master restart: the service and the store closed, both opened again over the same database file. */
  async function restart(options: { mailer?: boolean } = {}): Promise<void> {
    await service!.stop();
    await store.close();
    store = await openStore(dbUrl);
    await start(options);
  }

  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    await service!.settled();
  }

  const brief = () => smtp.messages.map((m) => `${m.subject} → ${m.to.join(', ')}`);

  it('defaults to Mondays at 08:00 UTC', () => {
    expect(config.fleet.digest).toEqual({ cron: '0 8 * * 1', timezone: 'UTC' });
  });

  it('refuses a bad digest cron or time zone when the config is read', () => {
    const read = (digest: Record<string, string>) => () => parseConfig({ fleet: { digest } }, 'test.yml', '/tmp');
    expect(read({ cron: '0 25 * * 1' })).toThrow(/fleet\.digest\.cron/);
    expect(read({ cron: '0 8 * * 1', timezone: 'Mars/Olympus' })).toThrow(/unknown time zone/);
    expect(read({ cron: '0 8 * * 5', timezone: 'Europe/Berlin' })).not.toThrow();
  });

  it('mails the announce list at Monday 08:00, once, and not again after a restart at that moment', async () => {
    await start();
    await advance(MONDAY_0800 - SUNDAY_2359 - 1000);
    expect(smtp.messages).toHaveLength(0);
    await advance(1000);
    await smtp.waitFor(1);
    expect(brief()).toEqual(['[shepherd] Weekly digest: farm health 100/100, all well → volunteers@example.org']);
    expect(smtp.messages[0]!.text).toContain('Farm health: 100/100 on 2026-11-30 08:00:00 UTC.');
    const ledger = await store.listAlerts({ worker: DIGEST_WORKER });
    expect(ledger.map((a) => ({ kind: a.kind, episode: a.episode, to: a.to }))).toEqual([
      { kind: 'digest', episode: MONDAY_0800, to: ['volunteers@example.org'] },
    ]);

    await restart();
    await advance(HOUR);
    expect(smtp.messages).toHaveLength(1);

    // The next week's digest still goes out.
    await advance(7 * DAY - HOUR);
    await smtp.waitFor(2);
    expect(smtp.messages).toHaveLength(2);
  });

  it('does not send a digest the ledger already has (another master, or one killed after recording)', async () => {
    await store.recordAlerts([{ kind: 'digest', worker: DIGEST_WORKER, episode: MONDAY_0800, sequence: 0, to: ['volunteers@example.org'], sentAt: MONDAY_0800 }]);
    await start();
    await advance(MONDAY_0800 - SUNDAY_2359 + MINUTE);
    expect(smtp.messages).toHaveLength(0);
  });

  it('does not catch up a digest missed while the master was down', async () => {
    clock = new ManualClock(MONDAY_0800 + HOUR);
    await start();
    await advance(DAY);
    expect(smtp.messages).toHaveLength(0);
  });

  it("tells a suspect worker's admins once per suspicion, not at every firing or restart", async () => {
    health = healthOf([suspectW2(SUNDAY_2359 - 2 * DAY)]);
    await start();
    await smtp.waitFor(1);
    expect(brief()).toEqual(['[shepherd] Worker w2 fails builds other workers pass → bob@example.org']);
    expect(smtp.messages[0]!.text).toContain('https://ci.example.org/builds/5');

    await advance(MONDAY_0800 - SUNDAY_2359);
    await advance(3 * DAY);
    await restart();
    await advance(DAY);
    expect(brief()).toEqual([
      '[shepherd] Worker w2 fails builds other workers pass → bob@example.org',
      '[shepherd] Weekly digest: farm health 90/100 → volunteers@example.org',
    ]);
    expect(smtp.messages[1]!.text).toContain('Suspect workers (1)');

    // The same suspicion going on, its start moved as old cases left the window: not told again.
    health = healthOf([suspectW2(SUNDAY_2359 - HOUR)]);
    await advance(DAY);
    expect(brief().filter((b) => b.includes('w2 fails'))).toHaveLength(1);

    // A new suspicion (the old one cleared, a later one began): told again, once.
    health = healthOf([suspectW2(clock.now() - HOUR)]);
    await advance(DAY);
    await advance(DAY);
    expect(brief().filter((b) => b.includes('w2 fails'))).toHaveLength(2);
  });

  it('pauses nobody unless fleet.health.auto_pause_suspects is set', async () => {
    expect(config.fleet.health.auto_pause_suspects).toBe(false);
    health = healthOf([suspectW2(SUNDAY_2359 - 2 * DAY)]);
    await start();
    await smtp.waitFor(1);
    expect(pauses).toEqual([]);
    expect(smtp.messages[0]!.text).not.toContain('paused');
  });

  describe('with fleet.health.auto_pause_suspects', () => {
    beforeEach(autoPause);

    it('pauses a suspect worker when it tells its admins, once: a resume sticks, a restart does not pause it again', async () => {
      health = healthOf([suspectW2(SUNDAY_2359 - 2 * DAY)]);
      await start();
      await smtp.waitFor(1);
      expect(pauses).toEqual(['w2 by shepherd (suspect: 3 failures where peers passed)']);
      expect(suspectPauser(1)).toBe('shepherd (suspect: 1 failure where peers passed)');
      expect(brief()).toEqual(['[shepherd] Worker w2 paused: it fails builds other workers pass → bob@example.org']);
      expect(smtp.messages[0]!.text).toContain('Shepherd has paused w2 so it takes no new builds');
      expect(smtp.messages[0]!.text).toContain('  shepherd worker resume w2 --master https://ci.example.org\n');
      expect((await views()).find((v) => v.name === 'w2')!.paused).toEqual({ by: 'shepherd (suspect: 3 failures where peers passed)', at: SUNDAY_2359 });

      // Its admin resumes it; the suspicion goes on (its start moving), the master restarts: it stays resumed.
      await store.setWorkerPaused('w2', false, 'bob', clock.now());
      await advance(DAY);
      health = healthOf([suspectW2(SUNDAY_2359 - HOUR)]);
      await restart();
      await advance(DAY);
      expect(pauses).toHaveLength(1);
      expect((await views()).find((v) => v.name === 'w2')!.paused).toBeNull();
      expect(brief().filter((b) => b.includes('w2'))).toHaveLength(1);

      // A new suspicion: paused and told again, once.
      health = healthOf([suspectW2(clock.now() - HOUR)]);
      await advance(DAY);
      await smtp.waitFor(3);
      expect(pauses).toHaveLength(2);
      expect(brief().filter((b) => b.includes('Worker w2 paused'))).toHaveLength(2);
    });

    it("does not overrule a pause its admin made, nor claim it as its own", async () => {
      await store.setWorkerPaused('w2', true, 'bob', SUNDAY_2359 - DAY);
      health = healthOf([suspectW2(SUNDAY_2359 - 2 * DAY)]);
      await start();
      await smtp.waitFor(1);
      expect(pauses).toEqual([]);
      expect(brief()).toEqual(['[shepherd] Worker w2 fails builds other workers pass → bob@example.org']);
      expect((await views()).find((v) => v.name === 'w2')!.paused).toEqual({ by: 'bob', at: SUNDAY_2359 - DAY });
    });

    it('pauses once with no mailer, or no admin to tell, recording the suspicion as told to no one', async () => {
      // w1 has no admins; w2's admin is not mailed, there being no notify.mail.
      const w1 = { ...suspectW2(SUNDAY_2359 - 2 * DAY), worker: 'w1' };
      health = healthOf([suspectW2(SUNDAY_2359 - 2 * DAY), w1]);
      await start({ mailer: false });
      expect(pauses).toEqual(['w2 by shepherd (suspect: 3 failures where peers passed)', 'w1 by shepherd (suspect: 3 failures where peers passed)']);
      expect((await store.listAlerts({})).map((a) => [a.kind, a.worker, a.episode, a.to]).sort()).toEqual([
        ['suspect', 'w1', SUNDAY_2359 - 2 * DAY, []],
        ['suspect', 'w2', SUNDAY_2359 - 2 * DAY, []],
      ]);

      await store.setWorkerPaused('w2', false, 'bob', clock.now());
      await restart({ mailer: false });
      await advance(MONDAY_0800 - SUNDAY_2359);
      await advance(2 * DAY);
      await restart();
      await advance(DAY);
      expect(pauses).toHaveLength(2);
      // With a mailer again, the suspicion already acted on is not mailed late.
      expect(brief()).toEqual([]);
      expect(smtp.messages).toHaveLength(0);
    });

    it('pauses once when the mail must be retried, and the retried mail says it paused the worker', async () => {
      const port = Number(new URL(smtp.url).port);
      await smtp.close();
      health = healthOf([suspectW2(SUNDAY_2359 - 2 * DAY)]);
      await start();
      expect(pauses).toHaveLength(1);
      expect(await store.listAlerts({ worker: 'w2' })).toEqual([]);
      // The server is back on the same port (smtp-server directly: the shared helper picks its own port).
      const received: string[] = [];
      const server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, _session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            received.push(Buffer.concat(chunks).toString('latin1'));
            callback();
          });
        },
      });
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      try {
        await advance(30_000);
        expect(received).toHaveLength(1);
        expect(received[0]).toContain('Subject: [shepherd] Worker w2 paused: it fails builds other workers pass');
        expect(pauses).toHaveLength(1);
        expect(await store.listAlerts({ worker: 'w2' })).toMatchObject([{ kind: 'suspect', to: ['Bob <bob@example.org>'] }]);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        smtp = await startSmtpServer();
      }
    });
  });
});
