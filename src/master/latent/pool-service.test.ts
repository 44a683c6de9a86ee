/**
 * The pool service over real parts: the real Coordinator of the test control
 * with its real SQLite store, the real event bus, a real SMTP server, and a
 * ManualClock; only the provider is a fake (an in-memory one written here:
 * the real providers have their own tests). A fake instance "boots" the way
 * an agent does: it authenticates with its one-time token and connects as
 * its worker. Decisions are driven by `tick()` and `clock.advance()`; nothing
 * sleeps. A master restart is a new service over the same store, after the
 * coordinator forgot its on-demand workers (as a new process would).
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createTestControl, type TestControl } from '../api/test-control.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createSmtpMailer } from '../notify/mailer.js';
import { startSmtpServer, type TestSmtpServer } from '../notify/test-servers.js';
import { hashSecret } from '../secrets.js';
import type { LatentInstanceRecord } from '../store/latent-instances.js';
import type { Store } from '../store/store.js';
import { freeInstanceName, startFailures, startPoolService, type PoolService } from './pool-service.js';
import type { InstanceSpec, InstanceStatus, LatentProvider, ListedInstance, StartedInstance } from './providers/provider.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** A provider whose instances live in a map; `start` records what the store held when it was called. */
class FakeProvider implements LatentProvider {
  readonly kind = 'fake';
  /** Running instances by provider id. */
  readonly running = new Map<string, InstanceSpec>();
  /** Every start asked for, with the pool's alive records as the store had them at that moment. */
  readonly starts: { spec: InstanceSpec; recorded: LatentInstanceRecord[] }[] = [];
  readonly stops: string[] = [];
  /** Set to make `start` (or `list`) throw. */
  failStart: Error | null = null;
  failList: Error | null = null;
  /** Set to make `start` throw after its machine was made (a timeout on the reply to RunInstances). */
  failAfterCreate: Error | null = null;
  /** Called after an accepted start, before it returns (an instance that boots at once). */
  onStarted: ((spec: InstanceSpec) => Promise<void>) | null = null;
  #next = 1;

  constructor(readonly store: () => Store) {}

  async start(spec: InstanceSpec): Promise<StartedInstance> {
    this.starts.push({ spec, recorded: await this.store().listLatentInstances({ pool: spec.pool, alive: true }) });
    if (this.failStart) throw this.failStart;
    const id = `fake-${this.#next++}`;
    this.running.set(id, spec);
    if (this.failAfterCreate) throw this.failAfterCreate;
    await this.onStarted?.(spec);
    return { id };
  }

  async stop(id: string): Promise<void> {
    this.stops.push(id);
    this.running.delete(id);
  }

  async status(id: string): Promise<InstanceStatus> {
    return this.running.has(id) ? 'running' : 'unknown';
  }

  async list(): Promise<ListedInstance[]> {
    if (this.failList) throw this.failList;
    return [...this.running].map(([id, spec]) => ({ id, name: spec.name, pool: spec.pool }));
  }

  /** The spec of the newest start of the instance `name`. */
  specOf(name: string): InstanceSpec {
    const start = this.starts.findLast((s) => s.spec.name === name);
    if (!start) throw new Error(`no start of ${name}`);
    return start.spec;
  }
}

const FAKE_SPEC: InstanceSpec = { pool: 'cloud', name: 'cloud-9', master: 'ws://127.0.0.1:1', token: 't', tag: 'shepherd-master=shepherd', dimensions: { pool: 'cloud' } };

const BUILDERS = `
builders:
  - { name: cloud-build, workers: { pool: cloud }, steps: [{ name: make, run: make }] }
`;

const pool = (settings: string) => `
latent:
  - { name: cloud, provider: local, dimensions: { pool: cloud }, ${settings} }
`;

describe('pool service', () => {
  let smtp: TestSmtpServer;
  let clock: ManualClock;
  let control: TestControl;
  let provider: FakeProvider;
  let service: PoolService | undefined;

  beforeEach(async () => {
    smtp = await startSmtpServer();
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await control?.close();
    await smtp.close();
  });

  /** A control over `yaml` (parsed like a config file), a fake provider for each pool, and the service started. */
  async function setup(yaml: string, start = Date.UTC(2026, 2, 10, 12, 0)): Promise<PoolService> {
    clock = new ManualClock(start);
    control = await createTestControl({ config: parseYaml(yaml), clock });
    provider = new FakeProvider(() => control.store);
    return startService();
  }

  async function startService(config: Readonly<Config> = control.config): Promise<PoolService> {
    service = await startPoolService({
      config,
      store: control.store,
      events: control.events,
      clock,
      logger: pino({ level: 'silent' }),
      workers: control,
      providers: new Map(control.config.latent.map((p) => [p.name, provider])),
      masterUrl: () => 'ws://127.0.0.1:1',
      mailer: createSmtpMailer({ smtp: smtp.url, from: 'Shepherd <shepherd@example.org>' }, { env: {} }),
      intervalMs: MINUTE,
    });
    await service.settled();
    return service;
  }

  /** A master restart: the service stops, and the coordinator forgets its on-demand workers, as a new process would not know them. */
  async function restart(config?: Readonly<Config>): Promise<PoolService> {
    await service!.stop();
    for (const view of await control.workers()) {
      if (view.source !== 'latent') continue;
      control.disconnect(view.name, 'master restarted');
      control.removeLatentWorker(view.name, 'master restarted');
    }
    return startService(config);
  }

  /** The instance boots: its agent authenticates with the token and connects. Resolves with its session secret. */
  async function boot(name: string): Promise<string> {
    const { verdict, sessionSecret } = control.authenticateWorker(name, provider.specOf(name).token);
    expect(verdict).toBe('ok');
    await control.connect(name);
    await service!.tick();
    return sessionSecret!;
  }

  const force = (builder = 'cloud-build') => control.force({ builder, properties: {}, reason: 'test', submittedBy: 'test' });
  const records = () => control.store.listLatentInstances({});
  const recordOf = async (name: string) => (await records()).findLast((r) => r.name === name)!;
  const latentWorkers = async () => (await control.workers()).filter((w) => w.source === 'latent').map((w) => w.name);

  describe('starting and stopping', () => {
    it('an unserved request starts one instance, recorded before the provider is asked; it takes the build; idle_timeout stops it', async () => {
      await setup(`${BUILDERS}${pool('max_instances: 3, idle_timeout: 10m')}`);
      const request = await force();
      await service!.tick();
      expect(provider.starts.map((s) => s.spec.name)).toEqual(['cloud-1']);
      const { spec, recorded } = provider.starts[0]!;
      // Recorded first, token and all, with no provider id yet: a crash now leaves a record to reconcile.
      expect(recorded).toMatchObject([{ name: 'cloud-1', state: 'starting', providerId: null, tokenHash: hashSecret(spec.token) }]);
      expect(spec).toMatchObject({ pool: 'cloud', master: 'ws://127.0.0.1:1', tag: 'shepherd-master=shepherd', dimensions: { pool: 'cloud' } });
      expect(await recordOf('cloud-1')).toMatchObject({ providerId: 'fake-1', state: 'starting' });

      await service!.tick();
      expect(provider.starts).toHaveLength(1);
      expect(service!.waitingReason(request.id)).toBe('waiting: an instance of pool cloud is starting for it');

      const session = await boot('cloud-1');
      const build = await control.buildStarted(request.id);
      expect(build.worker).toBe('cloud-1');
      // The token's use is recorded: only the session secret's hash is kept.
      expect(await recordOf('cloud-1')).toMatchObject({ tokenHash: null, sessionHash: hashSecret(session) });
      await service!.tick();
      expect((await recordOf('cloud-1')).state).toBe('building');
      await control.finishBuild(build.id);
      await service!.tick();
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'idle', builds: 1, idleSince: clock.now() });

      clock.advance(10 * MINUTE - 1);
      await service!.tick();
      expect(provider.stops).toEqual([]);
      clock.advance(1);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1']);
      const stopped = await recordOf('cloud-1');
      expect(stopped).toMatchObject({ state: 'stopped', stoppedAt: clock.now(), tokenHash: null });
      expect(stopped.reason).toBe('instance cloud-1 of cloud idle for 10m (idle_timeout 10m); stopping it');
      expect(await latentWorkers()).toEqual([]);
      expect(control.authenticateWorker('cloud-1', session).verdict).toBe('unknown');
    });

    it('an instance that boots inside its start takes the build; with idle_timeout 0 it stops right after that one build', async () => {
      await setup(`${BUILDERS}${pool('idle_timeout: 0')}`);
      provider.onStarted = async (spec) => {
        expect(control.authenticateWorker(spec.name, spec.token).verdict).toBe('ok');
        await control.connect(spec.name);
      };
      const request = await force();
      await service!.tick();
      const build = await control.buildStarted(request.id);
      expect(build.worker).toBe('cloud-1');
      await control.finishBuild(build.id);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1']);
      expect(await recordOf('cloud-1')).toMatchObject({
        state: 'stopped',
        builds: 1,
        reason: 'instance cloud-1 of cloud finished its build (idle_timeout 0: one build, then stop); stopping it',
      });
      expect(await latentWorkers()).toEqual([]);
    });

    it('max_instances bounds the starts however many requests wait; the rest say why', async () => {
      await setup(`${BUILDERS}${pool('max_instances: 2')}`);
      const requests = [await force(), await force(), await force()];
      await service!.tick();
      await service!.tick();
      expect(provider.starts.map((s) => s.spec.name)).toEqual(['cloud-1', 'cloud-2']);
      expect(requests.map((r) => service!.waitingReason(r.id))).toEqual([
        'waiting: an instance of pool cloud is starting for it',
        'waiting: an instance of pool cloud is starting for it',
        'waiting: pool cloud is at max_instances (2 of 2)',
      ]);
      expect((await records()).filter((r) => r.stoppedAt === null)).toHaveLength(2);
    });

    it('a build claimed on an instance at the moment it would be stopped keeps it running', async () => {
      await setup(`${BUILDERS}${pool('idle_timeout: 10m')}`);
      const first = await force();
      await service!.tick();
      await boot('cloud-1');
      await control.finishBuild((await control.buildStarted(first.id)).id);
      await service!.tick();
      clock.advance(10 * MINUTE - 1);
      // The coordinator claims the next build for cloud-1 in the store; that claim is held open while the idle timeout passes.
      const claim = holdNextClaim(control.store);
      const second = await force();
      await claim.claiming;
      clock.advance(1);
      await service!.tick();
      expect(provider.stops).toEqual([]);
      claim.release();
      const build = await control.buildStarted(second.id);
      expect(build.worker).toBe('cloud-1');
      await service!.tick();
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'building', stoppedAt: null, reason: null });
      // Once that build is done it idles, and the timeout applies again.
      await control.finishBuild(build.id);
      clock.advance(10 * MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1']);
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'stopped', builds: 2 });
    });
  });

  describe('failed starts', () => {
    it('an instance not connected within start_timeout is stopped as failed; the pool backs off, then mails its admins once when a second start fails', async () => {
      await setup(`${BUILDERS}${pool('start_timeout: 5m, admins: ["Cloud Ops <cloud-ops@example.org>"]')}
fleet: { announce: [announce@example.org] }
`);
      const request = await force();
      await service!.tick();
      clock.advance(5 * MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1']);
      const first = await recordOf('cloud-1');
      expect(first).toMatchObject({ state: 'failed', stoppedAt: clock.now(), tokenHash: null });
      expect(first.reason).toBe('instance cloud-1 of cloud did not connect within 5m (start_timeout): the start failed; stopping it');
      expect(await latentWorkers()).toEqual([]);
      expect(service!.waitingReason(request.id)).toBe('waiting: pool cloud is backing off after 1 failed start until 12:06 UTC');
      // The token of a stopped instance connects nobody.
      expect(control.authenticateWorker('cloud-1', provider.specOf('cloud-1').token).verdict).toBe('unknown');

      clock.advance(MINUTE - 1);
      await service!.tick();
      expect(provider.starts).toHaveLength(1);
      clock.advance(1);
      await service!.tick();
      expect(provider.starts).toHaveLength(2);
      expect(provider.starts[1]!.spec.name).toBe('cloud-1');
      expect(smtp.messages).toEqual([]); // one failed start may be bad luck

      clock.advance(5 * MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1', 'fake-2']);
      expect(service!.waitingReason(request.id)).toBe('waiting: pool cloud is backing off after 2 failed starts until 12:13 UTC');
      const [mail] = await smtp.waitFor(1);
      expect(mail!.to).toEqual(['cloud-ops@example.org']);
      expect(mail!.subject).toBe('Shepherd: on-demand pool cloud is backing off after 2 failed starts');
      expect(mail!.text).toContain('pool cloud is backing off after 2 failed starts until 12:13 UTC.');
      expect(mail!.text).toContain('cloud-1 (started 2026-03-10T12:00:00.000Z): instance cloud-1 of cloud did not connect within 5m');
      // The start that failed in this very decision is named with its reason too.
      expect(mail!.text).toContain('cloud-1 (started 2026-03-10T12:06:00.000Z): instance cloud-1 of cloud did not connect within 5m');

      clock.advance(MINUTE);
      await service!.tick();
      await restart();
      await service!.tick();
      expect(smtp.messages).toHaveLength(1);
      expect(provider.starts).toHaveLength(2);
      expect(service!.waitingReason(request.id)).toBe('waiting: pool cloud is backing off after 2 failed starts until 12:13 UTC');
    });

    it('with no admins of its own, the pool’s backoff goes to fleet.announce', async () => {
      await setup(`${BUILDERS}${pool('start_timeout: 5m')}
fleet: { announce: [announce@example.org] }
`);
      await force();
      await service!.tick();
      clock.advance(5 * MINUTE);
      await service!.tick();
      clock.advance(MINUTE);
      await service!.tick();
      clock.advance(5 * MINUTE);
      await service!.tick();
      const [mail] = await smtp.waitFor(1);
      expect(mail!.to).toEqual(['announce@example.org']);
    });

    it('a start the provider refuses is recorded as failed with its message, its worker removed, and counts as a failure', async () => {
      await setup(`${BUILDERS}${pool('max_instances: 2')}`);
      provider.failStart = new Error('quota exceeded');
      const request = await force();
      await service!.tick();
      expect(provider.starts).toHaveLength(1);
      expect(await recordOf('cloud-1')).toMatchObject({
        state: 'failed',
        stoppedAt: clock.now(),
        providerId: null,
        tokenHash: null,
        reason: 'its start failed: quota exceeded',
      });
      expect(await latentWorkers()).toEqual([]);
      expect(control.authenticateWorker('cloud-1', provider.specOf('cloud-1').token).verdict).toBe('unknown');
      await service!.tick();
      expect(provider.starts).toHaveLength(1);
      expect(service!.waitingReason(request.id)).toBe('waiting: pool cloud is backing off after 1 failed start until 12:01 UTC');
      expect((await service!.cost()).pools[0]!.backoff).toMatchObject({ pool: 'cloud', failures: 1, until: clock.now() + MINUTE });
    });

    it('a start that made its machine and then failed: the sweep stops the machine, and leaves the live ones alone', async () => {
      await setup(`${BUILDERS}${pool('max_instances: 2, idle_timeout: 1h')}`);
      provider.failAfterCreate = new Error('timed out waiting for the reply');
      await force();
      await service!.tick();
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'failed', providerId: null, reason: 'its start failed: timed out waiting for the reply' });
      expect([...provider.running.keys()]).toEqual(['fake-1']); // made, and known to no record
      provider.failAfterCreate = null;
      clock.advance(MINUTE);
      await service!.tick();
      await boot('cloud-1'); // the retry, a live instance (fake-2)
      expect(await recordOf('cloud-1')).toMatchObject({ providerId: 'fake-2', stoppedAt: null });

      clock.advance(8 * MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual([]); // ten minutes between sweeps, counted from the start-up reconciliation
      clock.advance(MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1']);
      expect([...provider.running.keys()]).toEqual(['fake-2']);
      clock.advance(10 * MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1']);
    });
  });

  describe('when: platform-short', () => {
    it('starts nothing while the platform’s static worker is connected, and starts one once it goes', async () => {
      await setup(`
workers:
  - { name: linux-1, secret_env: W1, dimensions: { os: linux } }
platforms:
  - { name: linux, select: { os: linux }, redundancy: 1 }
builders:
  - { name: spare-build, workers: { os: linux, pool: spare }, steps: [{ name: make, run: make }] }
latent:
  - { name: spare, provider: local, dimensions: { os: linux, pool: spare }, when: platform-short }
`);
      await control.connect('linux-1');
      const request = await force('spare-build');
      await service!.tick();
      expect(provider.starts).toEqual([]);
      expect(service!.waitingReason(request.id)).toBe('waiting: pool spare starts only while its platform is below redundancy, and linux is not');

      control.disconnect('linux-1');
      await service!.tick();
      expect(provider.starts.map((s) => s.spec.name)).toEqual(['spare-1']);
    });
  });

  describe('budget', () => {
    it('mails fleet.announce once a month past alert_at, starts nothing at 100% and says why; cost() reports the spend', async () => {
      await setup(
        `${BUILDERS}${pool('max_instances: 2, cost_per_hour: 10')}
budget: { monthly: 100, alert_at: 0.5 }
fleet: { announce: [announce@example.org] }
`,
        Date.UTC(2026, 2, 31, 10, 0),
      );
      const first = await force();
      await service!.tick();
      await boot('cloud-1');
      await control.buildStarted(first.id); // and it keeps building: never idle

      clock.advance(5 * HOUR - 1);
      await service!.tick();
      expect(smtp.messages).toEqual([]);
      clock.advance(HOUR + 1);
      await service!.tick();
      const [alert] = await smtp.waitFor(1);
      expect(alert!.to).toEqual(['announce@example.org']);
      expect(alert!.subject).toBe('Shepherd: on-demand workers at 60% of the 2026-03 budget');
      await service!.tick();

      clock.advance(5 * HOUR);
      const second = await force();
      await service!.tick();
      expect(provider.starts).toHaveLength(1);
      expect(service!.waitingReason(second.id)).toBe('waiting: budget 100 reached: no new instance');
      expect(smtp.messages).toHaveLength(1);
      const cost = await service!.cost();
      expect(cost).toMatchObject({ month: '2026-03', budget: 100, alertAt: 0.5, exhausted: true, burnPerHour: 10 });
      expect(cost.spent).toBeCloseTo(110);
      // 21:00 on the 31st: three hours left at 10 an hour.
      expect(cost.forecast).toBeCloseTo(140);
      expect(cost.notes).toEqual(['budget 100 reached: no new instance']);
      expect(cost.pools).toEqual([
        { name: 'cloud', provider: 'local', costPerHour: 10, spent: expect.closeTo(110) as number, running: 1, maxInstances: 2, when: 'always', backoff: null },
      ]);

      // A new month (02:00 on April 1st): its spend starts from its first hour, so the waiting build gets an instance.
      clock.advance(5 * HOUR);
      await service!.tick();
      expect(provider.starts.map((s) => s.spec.name)).toEqual(['cloud-1', 'cloud-2']);
      expect((await service!.cost()).spent).toBeCloseTo(20);
      await boot('cloud-2');
      expect(smtp.messages).toHaveLength(1);
      // 04:00: 40 for cloud-1 and 20 for cloud-2 pass this month's alert too.
      clock.advance(2 * HOUR);
      await service!.tick();
      const mails = await smtp.waitFor(2);
      expect(mails[1]!.subject).toBe('Shepherd: on-demand workers at 60% of the 2026-04 budget');
      await service!.tick();
      expect(smtp.messages).toHaveLength(2);
    });

    it('prices an instance at its pool’s cost_per_hour when it started: a later config change does not re-price it', async () => {
      await setup(`${BUILDERS}${pool('cost_per_hour: 10')}
budget: { monthly: 1000 }
`);
      const first = await force();
      await service!.tick();
      await boot('cloud-1');
      await control.buildStarted(first.id);
      clock.advance(HOUR);
      const dearer = parseConfig(parseYaml(`${BUILDERS}${pool('cost_per_hour: 1000')}
budget: { monthly: 1000 }
`), 'test.yml', '/tmp');
      await restart(dearer);
      expect((await service!.cost()).spent).toBeCloseTo(10);
      const [instance] = await service!.instances({ days: 1 });
      expect(instance!.cost).toBeCloseTo(10);
    });
  });

  describe('reconciliation at start', () => {
    /** cloud-1 connected and ran both queued builds (idle now); cloud-2 was started for the second and never connected. */
    async function oneIdleOneStarting(): Promise<string> {
      const first = await force();
      const second = await force();
      await service!.tick();
      const session = await boot('cloud-1');
      await control.finishBuild((await control.buildStarted(first.id)).id);
      await control.finishBuild((await control.buildStarted(second.id)).id);
      await service!.tick();
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'idle', builds: 2 });
      expect(await recordOf('cloud-2')).toMatchObject({ state: 'starting', connectedAt: null });
      return session;
    }

    it('adopts an alive record its provider lists: the coordinator knows the worker again and its session secret connects it', async () => {
      await setup(`${BUILDERS}${pool('idle_timeout: 10m')}`);
      const first = await force();
      await service!.tick();
      const session = await boot('cloud-1');
      await control.finishBuild((await control.buildStarted(first.id)).id);
      clock.advance(MINUTE);
      await restart();
      expect(await latentWorkers()).toEqual(['cloud-1']);
      expect(control.authenticateWorker('cloud-1', session)).toEqual({ verdict: 'ok' });
      expect(control.verifyWorker('cloud-1', session)).toBe('ok');
      expect(control.authenticateWorker('cloud-1', provider.specOf('cloud-1').token).verdict).toBe('spent');
      expect(provider.stops).toEqual([]);
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'idle', builds: 1, stoppedAt: null, idleSince: clock.now() });

      // It reconnects and takes the next build; nothing new starts.
      await control.connect('cloud-1');
      const request = await force();
      expect((await control.buildStarted(request.id)).worker).toBe('cloud-1');
      await service!.tick();
      expect(provider.starts).toHaveLength(1);
      expect((await recordOf('cloud-1')).state).toBe('building');
    });

    it('an adopted instance that never reconnects is stopped by the timeouts: idle_timeout once connected, start_timeout if it never was', async () => {
      await setup(`${BUILDERS}${pool('max_instances: 2, idle_timeout: 10m, start_timeout: 15m')}`);
      const session = await oneIdleOneStarting();
      clock.advance(MINUTE);
      await restart();
      expect(await latentWorkers()).toEqual(['cloud-1', 'cloud-2']);
      expect(control.authenticateWorker('cloud-1', session).verdict).toBe('ok');
      expect(await recordOf('cloud-2')).toMatchObject({ state: 'starting', providerId: 'fake-2' });

      // Neither reconnects: cloud-1 is idle from the restart on, cloud-2 is a start from before it.
      clock.advance(10 * MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1']);
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'stopped', reason: 'instance cloud-1 of cloud idle for 10m (idle_timeout 10m); stopping it' });
      clock.advance(4 * MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1', 'fake-2']);
      expect(await recordOf('cloud-2')).toMatchObject({ state: 'failed' });
      expect(await latentWorkers()).toEqual([]);
    });

    it('an adopted instance that never connected still connects with its token, and its session is recorded', async () => {
      await setup(`${BUILDERS}${pool('start_timeout: 15m')}`);
      const request = await force();
      await service!.tick();
      await restart();
      const session = await boot('cloud-1');
      expect((await control.buildStarted(request.id)).worker).toBe('cloud-1');
      await service!.tick();
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'building', tokenHash: null, sessionHash: hashSecret(session) });
    });

    it('stops a listed instance it has no record of, and marks a record its provider no longer lists as stopped', async () => {
      await setup(`${BUILDERS}${pool('max_instances: 2')}`);
      await oneIdleOneStarting();
      // Both vanished while the master was down; an instance tagged as this master's has no record.
      provider.running.clear();
      provider.running.set('stray', { ...provider.specOf('cloud-1'), name: 'cloud-9' });
      clock.advance(MINUTE);
      await restart();
      expect(provider.stops).toEqual(['stray']);
      const reason = 'gone when the master restarted (its provider no longer lists it)';
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'stopped', stoppedAt: clock.now(), reason, tokenHash: null });
      expect(await recordOf('cloud-2')).toMatchObject({ state: 'failed', stoppedAt: clock.now(), reason, tokenHash: null });
      expect(await latentWorkers()).toEqual([]);
      // cloud-2's start counts as failed: the pool backs off a minute, then reuses the freed names.
      const request = await force();
      await service!.tick();
      expect(provider.starts).toHaveLength(2);
      expect(service!.waitingReason(request.id)).toBe('waiting: pool cloud is backing off after 1 failed start until 12:02 UTC');
      clock.advance(MINUTE);
      await service!.tick();
      expect(provider.starts.map((s) => s.spec.name)).toEqual(['cloud-1', 'cloud-2', 'cloud-1']);
    });

    it('an adopted record left building whose build ended as the master went down is idle, and idle_timeout stops it', async () => {
      await setup(`${BUILDERS}${pool('idle_timeout: 10m')}`);
      const request = await force();
      await service!.tick();
      await boot('cloud-1');
      await control.finishBuild((await control.buildStarted(request.id)).id);
      await service!.stop();
      // The build's end was stored; the instance's was not (the master died between the two writes).
      await control.store.updateLatentInstance((await recordOf('cloud-1')).id, { state: 'building', idleSince: null });
      clock.advance(MINUTE);
      await restart();
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'idle', idleSince: clock.now() });
      clock.advance(10 * MINUTE);
      await service!.tick();
      expect(provider.stops).toEqual(['fake-1']);
    });

    it('a record its provider never named (the master died inside the start, and the list fails) is closed at start_timeout; the sweep stops its machine', async () => {
      await setup(`${BUILDERS}${pool('start_timeout: 15m')}`);
      const now = clock.now();
      await control.store.createLatentInstance({
        name: 'cloud-1', pool: 'cloud', provider: 'local', masterId: 'shepherd', startedAt: now, tokenHash: hashSecret('t'), tokenExpiresAt: now + 15 * MINUTE, costPerHour: 0,
      });
      provider.running.set('made-before-the-crash', { ...FAKE_SPEC, name: 'cloud-1' });
      provider.failList = new Error('API unreachable');
      await restart();
      expect(await latentWorkers()).toEqual(['cloud-1']);
      provider.failList = null;
      clock.advance(15 * MINUTE);
      await service!.tick();
      expect(await recordOf('cloud-1')).toMatchObject({
        state: 'failed',
        providerId: null,
        reason: 'instance cloud-1 of cloud did not connect within 15m (start_timeout): the start failed; stopping it',
      });
      expect(await latentWorkers()).toEqual([]);
      // The sweep, ten minutes after the start-up reconciliation (the clock is already past it).
      expect(provider.stops).toEqual(['made-before-the-crash']);
    });

    it('when the provider cannot list, adopts the records as they are', async () => {
      await setup(`${BUILDERS}${pool('max_instances: 2')}`);
      const session = await oneIdleOneStarting();
      // They still run; the provider's API just cannot answer for now.
      provider.failList = new Error('API unreachable');
      await restart();
      expect(provider.stops).toEqual([]);
      expect(await latentWorkers()).toEqual(['cloud-1', 'cloud-2']);
      expect(control.authenticateWorker('cloud-1', session).verdict).toBe('ok');
      expect(await recordOf('cloud-1')).toMatchObject({ state: 'idle', stoppedAt: null });
      expect(await recordOf('cloud-2')).toMatchObject({ state: 'starting', stoppedAt: null });
    });
  });
});

describe('startFailures', () => {
  let nextId = 1;
  function record(pool: string, startedAt: number, outcome: 'failed' | 'connected' | 'starting' | 'stopped'): LatentInstanceRecord {
    return {
      id: nextId++,
      name: `${pool}-1`,
      pool,
      provider: 'local',
      costPerHour: 0,
      masterId: 'm',
      startedAt,
      providerId: null,
      state: outcome,
      connectedAt: outcome === 'connected' ? startedAt + 1 : null,
      idleSince: null,
      stoppedAt: outcome === 'failed' || outcome === 'stopped' ? startedAt + 5 : null,
      builds: 0,
      reason: null,
      tokenHash: null,
      tokenExpiresAt: null,
      sessionHash: null,
    };
  }

  it('counts each pool’s failed starts since its last instance that connected, newest failure first', () => {
    const runs = startFailures([
      record('a', 100, 'failed'),
      record('a', 200, 'connected'),
      record('a', 300, 'failed'),
      record('a', 400, 'starting'), // neither a failure nor a success yet
      record('a', 350, 'failed'),
      record('b', 100, 'failed'),
      record('b', 150, 'stopped'), // stopped before it ever connected: not a success
      record('b', 200, 'failed'),
      record('c', 100, 'failed'),
      record('c', 200, 'connected'),
    ]);
    expect(Object.fromEntries(runs)).toEqual({
      a: { consecutive: 2, lastAt: 355 },
      b: { consecutive: 2, lastAt: 205 },
    });
  });

  it('orders records of the same start time by id, and takes a failure with no stop time at its start', () => {
    const older = { ...record('a', 100, 'failed'), stoppedAt: null };
    const newer = record('a', 100, 'connected');
    expect(startFailures([newer, older]).get('a')).toBeUndefined();
    const failedLast = { ...record('a', 100, 'failed'), stoppedAt: null };
    expect(startFailures([failedLast, newer]).get('a')).toEqual({ consecutive: 1, lastAt: 100 });
  });
});

describe('freeInstanceName', () => {
  it('is the lowest POOL-N not taken, up to max_instances', () => {
    const cloud = { name: 'cloud', max_instances: 3 };
    expect(freeInstanceName(cloud, new Set())).toBe('cloud-1');
    expect(freeInstanceName(cloud, new Set(['cloud-1', 'cloud-3', 'other-2']))).toBe('cloud-2');
    expect(freeInstanceName(cloud, new Set(['cloud-1', 'cloud-2', 'cloud-3']))).toBeNull();
    expect(freeInstanceName({ name: 'cloud', max_instances: 1 }, new Set(['cloud-2']))).toBe('cloud-1');
  });
});

/**
 * Holds the store's next build claim open until `release()`: the window in
 * which the coordinator is claiming a build for a worker. The real store does
 * the claim; only its start waits.
 */
function holdNextClaim(store: Store): { claiming: Promise<void>; release(): void } {
  const original = store.startBuild;
  let release!: () => void;
  let claimed!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const claiming = new Promise<void>((resolve) => (claimed = resolve));
  store.startBuild = async function heldStartBuild(input) {
    store.startBuild = original;
    claimed();
    await gate;
    return original.call(store, input);
  };
  return { claiming, release };
}
