/**
 * The on-demand pools at work: the thin shell around `decideLatent`. On a
 * timer and on the events that change the answer (a request queued, a
 * worker gone, a build ended), it takes a snapshot (this master's live
 * instances, the queued requests no connected worker can take, the
 * platforms' shortfall, the month's spend), decides, and acts: stops
 * instances through their provider, starts new ones with a one-time token,
 * mails the budget alert and a pool's backoff. Every instance is recorded
 * before its provider is asked, so a crash between the two leaves a record
 * that the next start reconciles against the provider's list: an instance is
 * adopted or stopped, never leaked or doubled.
 */
import type { Logger } from 'pino';
import type { LatentInstanceView, WorkerView } from '../api/control.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Config, LatentPoolConfig } from '../config/schema.js';
import type { MasterEventBus } from '../events.js';
import { platformCoverage } from '../fleet/coverage.js';
import { sendAndRecord } from '../fleet/ledger-mail.js';
import { SerialRuns } from '../fleet/serial-runs.js';
import type { Mailer } from '../notify/mailer.js';
import type { WorkerSelector } from '../scheduling/match.js';
import { hashSecret, newSecret } from '../secrets.js';
import type { LatentInstanceRecord, LatentInstancePatch } from '../store/latent-instances.js';
import type { Store } from '../store/store.js';
import type { TokenCredential } from '../workers/credentials.js';
import { budgetAlert, costReport, hoursWithin, monthBounds, type CostReport } from './cost.js';
import { decideLatent, type Backoff, type LatentDecision, type LatentInstance, type StartFailures, type StopDecision } from './decide.js';
import { masterTag, type LatentProvider, type ListedInstance } from './providers/provider.js';

/** What the pool service needs of the build coordinator. */
export interface LatentWorkers {
  addLatentWorker(name: string, dimensions: Readonly<Record<string, string>>, credential: TokenCredential, describe: () => LatentInstanceView): void;
  drainLatentWorker(name: string): boolean;
  removeLatentWorker(name: string, reason: string): void;
  unservedRequests(): { id: number; builder: string }[];
  /** Whether a worker of that name exists now (a registered worker may have taken an instance's name). */
  workerSource(name: string): string | undefined;
  readonly selectors: ReadonlyMap<string, WorkerSelector>;
  workers(): Promise<WorkerView[]>;
}

export interface PoolServiceDeps {
  config: Readonly<Config>;
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
  workers: LatentWorkers;
  /** Each pool's provider, by pool name (see providers/index.ts). */
  providers: ReadonlyMap<string, LatentProvider>;
  /** The worker address a pool's instances connect to (`ws://HOST:PORT`), known once the master listens. */
  masterUrl(pool: LatentPoolConfig): string;
  mailer?: Mailer;
  /** How often to decide without an event (default 5 s). */
  intervalMs?: number;
  /**
   * How often a decision also asks each provider for this master's
   * instances and stops any that no live record names (default 10 min):
   * a start that made its machine and then failed, or a record lost.
   */
  sweepIntervalMs?: number;
  /**
   * Decisions wait for this (the master listening: new instances need its
   * address); reconciliation does not, so instances are adopted before the
   * coordinator reloads the builds left running on them. Default: at once.
   */
  ready?: Promise<unknown>;
}

/** What the API and the CLI ask of the pools. */
export interface LatentControl {
  /** Why a queued request still waits for an on-demand instance; null when no pool decision concerns it. */
  waitingReason(requestId: number): string | null;
  /** Instances that ran in the last `days` (only alive ones with `alive`), oldest first, with their cost. */
  instances(filter: { pool?: string; alive?: boolean; days: number }): Promise<LatentInstanceView[]>;
  /** Spend this month against the budget, per pool, with each pool's backoff. */
  cost(): Promise<CostView>;
}

/** `GET /api/v1/cost`. */
export interface CostView extends CostReport {
  alertAt: number | null;
  pools: {
    name: string;
    provider: string;
    costPerHour: number;
    spent: number;
    running: number;
    maxInstances: number;
    when: 'always' | 'platform-short';
    backoff: Backoff | null;
  }[];
  notes: string[];
}

/** The running pool service. */
export interface PoolService extends LatentControl {
  /** Decides now (and waits for it). */
  tick(): Promise<void>;
  /** Resolves when no run is queued or in flight. */
  settled(): Promise<void>;
  /** Stops deciding; instances keep running (the next start adopts them). */
  stop(): Promise<void>;
}

const ALIVE = (record: LatentInstanceRecord) => record.stoppedAt === null;

/** A pool's run of failed starts since an instance of it last connected (newest records first). */
export function startFailures(records: readonly LatentInstanceRecord[]): Map<string, StartFailures> {
  const runs = new Map<string, StartFailures>();
  const closed = new Set<string>();
  for (const record of [...records].sort((a, b) => b.startedAt - a.startedAt || b.id - a.id)) {
    if (closed.has(record.pool)) continue;
    if (record.state === 'failed') {
      const run = runs.get(record.pool);
      runs.set(record.pool, { consecutive: (run?.consecutive ?? 0) + 1, lastAt: run?.lastAt ?? record.stoppedAt ?? record.startedAt });
    } else if (record.connectedAt !== null) {
      closed.add(record.pool);
    }
  }
  return runs;
}

/**
 * The lowest free `POOL-N` (N from 1 to max_instances), or null when every
 * name is taken: by a live instance (`taken`, any master's) or by another
 * worker (`clashes`: a volunteer registered under such a name).
 */
export function freeInstanceName(
  pool: Pick<LatentPoolConfig, 'name' | 'max_instances'>,
  taken: ReadonlySet<string>,
  clashes: (name: string) => boolean = () => false,
): string | null {
  for (let n = 1; n <= pool.max_instances; n++) {
    const name = `${pool.name}-${n}`;
    if (!taken.has(name) && !clashes(name)) return name;
  }
  return null;
}

/** Starts the pool service; reconcile with the providers first (`start()` resolves after it). */
export async function startPoolService(deps: PoolServiceDeps): Promise<PoolService> {
  const { config, store, events, clock, workers, providers } = deps;
  const log = deps.logger.child({ component: 'latent' });
  const masterId = config.master.id;
  const tag = masterTag(masterId);
  const pools = new Map(config.latent.map((pool) => [pool.name, pool]));
  const prices = new Map(config.latent.map((pool) => [pool.name, pool.cost_per_hour]));
  const budget = config.budget;
  /** This master's live instances, by record id. */
  const live = new Map<number, LatentInstanceRecord>();
  const byName = (name: string) => [...live.values()].find((record) => record.name === name);
  let decision: LatentDecision | null = null;
  let timer: TimerHandle | null = null;
  const sweepIntervalMs = deps.sweepIntervalMs ?? 10 * 60_000;
  /** Reconciliation at start-up is the first sweep. */
  let lastSweep = clock.now();
  // Record updates go out one after another, in the order things happened.
  let writes: Promise<unknown> = Promise.resolve();

  const costOf = (record: Pick<LatentInstanceRecord, 'startedAt' | 'stoppedAt' | 'costPerHour'>, now: number) =>
    hoursWithin(record, record.startedAt, Number.POSITIVE_INFINITY, now) * record.costPerHour;

  const viewOf = (record: LatentInstanceRecord): LatentInstanceView => ({
    id: record.id,
    name: record.name,
    pool: record.pool,
    provider: record.provider,
    providerId: record.providerId,
    state: record.state,
    startedAt: record.startedAt,
    connectedAt: record.connectedAt,
    stoppedAt: record.stoppedAt,
    builds: record.builds,
    reason: record.reason,
    cost: costOf(record, clock.now()),
  });

  /** Changes a live record now and in the store (in order, after earlier writes). */
  function update(record: LatentInstanceRecord, patch: LatentInstancePatch): Promise<void> {
    Object.assign(record, patch);
    if (record.stoppedAt !== null) live.delete(record.id);
    const write = writes.then(() => store.updateLatentInstance(record.id, patch)).then(
      () => undefined,
      (error: unknown) => log.error({ err: error, instance: record.name }, 'recording an on-demand instance failed'),
    );
    writes = write;
    return write;
  }

  /** Makes a live record a worker the coordinator knows; its token (or adopted session) authenticates it. */
  function attach(record: LatentInstanceRecord, tokenHash: string | null, expiresAt: number): void {
    const pool = pools.get(record.pool)!;
    workers.addLatentWorker(
      record.name,
      pool.dimensions,
      {
        tokenHash,
        expiresAt,
        sessionHash: record.sessionHash,
        onSpent: (sessionHash) => void update(record, { tokenHash: null, tokenExpiresAt: null, sessionHash }),
      },
      () => viewOf(record),
    );
  }

  // ------------------------------------------------------------------ reconciliation after a restart

  async function reconcile(): Promise<void> {
    const now = clock.now();
    const records = await store.listLatentInstances({ masterId, alive: true });
    // A record left `building` whose build is no longer running (it ended as the master went down) is idle.
    const building = new Set((await store.listBuilds({ state: 'running', limit: 1_000_000 })).map((build) => build.worker));
    const adopt = (record: LatentInstanceRecord) => adoptRecord(record, now, building.has(record.name));
    const known = new Map(records.map((record) => [record.providerId ?? `(no id) ${record.id}`, record]));
    const seen = new Set<number>();
    await forEachTagged(
      (instance) => known.get(instance.id)?.pool ?? instance.pool,
      (poolName, error) => {
        // Without the list nothing can be told apart: keep the records alive and adopt them; the next start retries.
        log.error({ err: error, pool: poolName }, 'listing the pool’s instances failed; adopting its records as they are');
        for (const record of records.filter((r) => r.pool === poolName)) {
          seen.add(record.id);
          adopt(record);
        }
      },
      async (instance, poolName, provider) => {
        const record = known.get(instance.id);
        if (record && record.pool === poolName) {
          seen.add(record.id);
          adopt(record);
          return;
        }
        const why = record
          ? `pool ${record.pool} is no longer configured; stopping its instance`
          : 'stopping an instance this master tagged but does not know';
        log.warn({ pool: poolName, instance: instance.id, name: instance.name }, why);
        try {
          await provider.stop(instance.id);
          if (record) {
            seen.add(record.id);
            await store.updateLatentInstance(record.id, { state: 'stopped', stoppedAt: now, reason: why, tokenHash: null, tokenExpiresAt: null });
          }
        } catch (error) {
          log.error({ err: error, instance: instance.id }, 'stopping an instance at start-up failed');
        }
      },
    );
    for (const record of records) {
      if (seen.has(record.id)) continue;
      const configured = providers.has(record.pool);
      const reason = configured
        ? 'gone when the master restarted (its provider no longer lists it)'
        : `pool ${record.pool} is no longer configured: its instance ${record.providerId ?? '(never started)'} was not stopped by Shepherd; check the provider`;
      if (!configured) log.warn({ instance: record.name, provider: record.provider, id: record.providerId }, reason);
      await store.updateLatentInstance(record.id, {
        state: record.state === 'starting' && record.connectedAt === null ? 'failed' : 'stopped',
        stoppedAt: now,
        reason,
        tokenHash: null,
        tokenExpiresAt: null,
      });
    }
  }

  function adoptRecord(record: LatentInstanceRecord, now: number, hasBuild: boolean): void {
    log.info({ instance: record.name, pool: record.pool, id: record.providerId }, 'adopting an on-demand instance after a restart');
    // Not connected to this process yet: it reconnects (with its session secret) or times out like a new start.
    const patch: LatentInstancePatch =
      record.connectedAt === null
        ? { state: 'starting' }
        : record.state === 'building' && hasBuild
          ? {} // its build waits for it to reconnect (the coordinator reloads it)
          : { state: record.builds > 0 ? 'idle' : 'connected', idleSince: now };
    live.set(record.id, record);
    Object.assign(record, patch);
    void update(record, patch);
    attach(record, record.tokenHash, record.tokenExpiresAt ?? 0);
  }

  // ------------------------------------------------------------------ what the coordinator tells

  const onConnected = ({ worker }: { worker: string }) => {
    const record = byName(worker);
    if (!record || record.state === 'stopping') return;
    const now = clock.now();
    if (record.state === 'starting') {
      log.info({ instance: worker, pool: record.pool, after: now - record.startedAt }, 'on-demand instance connected');
    }
    // A reconnect in the middle of a build (after a network drop, or a master restart) stays building.
    const building = record.state === 'building';
    void update(record, { state: building ? 'building' : record.builds > 0 ? 'idle' : 'connected', connectedAt: record.connectedAt ?? now, idleSince: building ? null : now });
    runs.trigger();
  };
  const onStarted = ({ build }: { build: { worker: string } }) => {
    const record = byName(build.worker);
    if (record && record.state !== 'stopping') void update(record, { state: 'building', idleSince: null });
  };
  const onFinished = ({ build }: { build: { worker: string } }) => {
    const record = byName(build.worker);
    if (!record) return;
    void update(record, { state: record.state === 'stopping' ? 'stopping' : 'idle', builds: record.builds + 1, idleSince: clock.now() });
    runs.trigger();
  };

  // ------------------------------------------------------------------ deciding and acting

  async function snapshotFailures(): Promise<{ month: LatentInstanceRecord[]; failures: Map<string, StartFailures> }> {
    const now = clock.now();
    // A month of records covers both the spend and any backoff (capped at an hour).
    const month = await store.listLatentInstances({ since: Math.min(monthBounds(now).start, now - 86_400_000) });
    const mine = month.filter((record) => record.masterId === masterId);
    return { month, failures: startFailures(mine) };
  }

  async function platformShortfalls(views: WorkerView[]) {
    const coverage = platformCoverage(
      config.platforms,
      views.map((view) => ({ name: view.name, dimensions: view.dimensions, live: view.connected && view.paused === null })),
      config.builders.map((builder) => ({ name: builder.name, workers: builder.workers })),
    );
    return coverage.map((platform) => ({ name: platform.name, select: platform.select, shortfall: Math.max(0, platform.redundancy - platform.live.length) }));
  }

  async function run(): Promise<void> {
    if (pools.size === 0) return; // no pool: nothing to start, stop or price (reconciliation closed what was left)
    await deps.ready;
    await writes;
    const now = clock.now();
    const views = await workers.workers();
    await checkVanished(views);
    if (now - lastSweep >= sweepIntervalMs) {
      lastSweep = now;
      await sweepStrays();
    }
    const { month, failures } = await snapshotFailures();
    const report = costReport(month, prices, budget, now);
    const waiting = workers.unservedRequests().map((request) => ({ id: request.id, builder: request.builder }));
    decision = decideLatent({
      now,
      pools: config.latent,
      instances: [...live.values()].map(asDecided),
      waiting,
      selectors: workers.selectors,
      platforms: await platformShortfalls(views),
      failures,
      spent: report.spent,
      ...(budget ? { budget } : {}),
    });
    for (const stop of decision.stops) await stopInstance(stop);
    // A backoff mail names the failed starts with their reasons, the ones just stopped too: read after their stops were written.
    const failed = decision.backoffs.some((backoff) => backoff.failures >= 2) ? (await snapshotFailures()).month : month;
    for (const backoff of decision.backoffs) await tellBackoff(backoff, failed);
    for (const start of decision.starts) {
      for (let i = 0; i < start.count; i++) await startInstance(pools.get(start.pool)!, start.reasons[i] ?? '');
    }
    await alertBudget(report);
  }

  /** Instances that left without being stopped (a crashed VM, a killed agent): the provider says whether they still run. */
  async function checkVanished(views: WorkerView[]): Promise<void> {
    const connected = new Set(views.filter((view) => view.connected).map((view) => view.name));
    for (const record of [...live.values()]) {
      if (record.state === 'starting' || record.state === 'stopping' || connected.has(record.name) || record.providerId === null) continue;
      const provider = providers.get(record.pool);
      if (!provider) continue;
      const status = await provider.status(record.providerId).catch(() => 'running' as const);
      if (status === 'running') continue;
      log.warn({ instance: record.name, pool: record.pool }, 'on-demand instance ended on its own');
      await update(record, { state: 'stopped', stoppedAt: clock.now(), reason: 'it ended on its own (its provider no longer runs it)' });
      workers.removeLatentWorker(record.name, 'instance ended');
    }
  }

  /**
   * Stops what a provider runs with this master's tag and no live record
   * names: a machine made by a start that then failed (its record is closed),
   * or one whose record was lost. Between reconciliations at start-up, this is
   * what keeps such a machine from running up a bill until the next restart.
   */
  async function sweepStrays(): Promise<void> {
    const known = new Set([...live.values()].flatMap((record) => (record.providerId === null ? [] : [record.providerId])));
    await forEachTagged(
      (instance) => instance.pool,
      (poolName, error) => log.warn({ err: error, pool: poolName }, 'listing the pool’s instances failed; looking for strays again at the next sweep'),
      async (instance, poolName, provider) => {
        if (known.has(instance.id)) return;
        log.warn({ pool: poolName, instance: instance.id, name: instance.name }, 'stopping an instance this master tagged but has no live record of');
        await provider.stop(instance.id).catch((error: unknown) => log.error({ err: error, instance: instance.id }, 'stopping a stray instance failed; trying at the next sweep'));
      },
    );
  }

  /**
   * Visits each instance the providers list under this master's tag, once,
   * with the pool whose provider decides it. A provider may list the
   * master's instances of other pools too (one EC2 region, one data
   * directory): an instance whose pool (`ownerOf`) is another configured
   * pool is left to that pool's provider.
   */
  async function forEachTagged(
    ownerOf: (instance: ListedInstance) => string | undefined,
    onListFailed: (pool: string, error: unknown) => void,
    visit: (instance: ListedInstance, pool: string, provider: LatentProvider) => Promise<void>,
  ): Promise<void> {
    const handled = new Set<string>();
    for (const [poolName, provider] of providers) {
      let listed;
      try {
        listed = await provider.list();
      } catch (error) {
        onListFailed(poolName, error);
        continue;
      }
      for (const instance of listed) {
        if (handled.has(instance.id)) continue;
        const owner = ownerOf(instance);
        if (owner !== undefined && owner !== poolName && providers.has(owner)) continue;
        handled.add(instance.id);
        await visit(instance, poolName, provider);
      }
    }
  }

  async function stopInstance(stop: StopDecision): Promise<void> {
    const record = byName(stop.instance);
    if (!record) return;
    if (record.providerId === null) {
      // Its provider never named it (the master went down inside its start, and
      // the provider could not be listed since): nothing to stop by name. A
      // machine it did make carries this master's tag, and the sweep stops it.
      log.warn({ instance: record.name, pool: record.pool }, `${stop.reason} (its provider never gave it an id)`);
      await update(record, { state: stop.failed ? 'failed' : 'stopped', stoppedAt: clock.now(), reason: stop.reason, tokenHash: null, tokenExpiresAt: null });
      workers.removeLatentWorker(record.name, 'on-demand instance stopped');
      return;
    }
    // Drained first, so no build is given to it while it stops; one that started meanwhile keeps it running.
    if (!workers.drainLatentWorker(record.name)) return;
    log.info({ instance: record.name, pool: record.pool, failed: stop.failed }, stop.reason);
    await update(record, { state: 'stopping', reason: stop.reason });
    try {
      await providers.get(record.pool)!.stop(record.providerId);
    } catch (error) {
      // Still running at the provider: it stays `stopping` (and counts toward max_instances); the next run tries again.
      log.error({ err: error, instance: record.name }, 'stopping an on-demand instance failed; retrying at the next decision');
      Object.assign(record, { state: stop.failed ? 'starting' : 'idle' });
      return;
    }
    await update(record, { state: stop.failed ? 'failed' : 'stopped', stoppedAt: clock.now(), tokenHash: null, tokenExpiresAt: null });
    workers.removeLatentWorker(record.name, 'on-demand instance stopped');
  }

  async function startInstance(pool: LatentPoolConfig, reason: string): Promise<void> {
    const provider = providers.get(pool.name);
    if (!provider) return;
    const now = clock.now();
    const taken = new Set((await store.listLatentInstances({ alive: true, pool: pool.name })).map((record) => record.name));
    const name = freeInstanceName(pool, taken, (candidate) => workers.workerSource(candidate) !== undefined);
    if (name === null) return; // another master holds every name of the pool
    const token = newSecret();
    let record: LatentInstanceRecord;
    try {
      record = await store.createLatentInstance({
        name,
        pool: pool.name,
        provider: pool.provider,
        masterId,
        startedAt: now,
        tokenHash: hashSecret(token),
        tokenExpiresAt: now + pool.start_timeout,
        costPerHour: pool.cost_per_hour,
      });
    } catch (error) {
      log.warn({ err: error, instance: name }, 'could not record a new on-demand instance; trying at the next decision');
      return;
    }
    live.set(record.id, record);
    attach(record, record.tokenHash, now + pool.start_timeout);
    log.info({ instance: name, pool: pool.name }, reason);
    try {
      const started = await provider.start({ pool: pool.name, name, master: deps.masterUrl(pool), token, tag, dimensions: pool.dimensions });
      await update(record, { providerId: started.id });
    } catch (error) {
      const why = `its start failed: ${(error as Error).message}`;
      log.error({ err: error, instance: name, pool: pool.name }, 'starting an on-demand instance failed');
      await update(record, { state: 'failed', stoppedAt: clock.now(), reason: why, tokenHash: null, tokenExpiresAt: null });
      workers.removeLatentWorker(name, why);
    }
  }

  async function tellBackoff(backoff: Backoff, month: readonly LatentInstanceRecord[]): Promise<void> {
    // Mailed once per run of failures, when it repeats (one failed start may be bad luck).
    if (!deps.mailer || backoff.failures < 2) return;
    const pool = pools.get(backoff.pool);
    const to = pool && pool.admins.length > 0 ? pool.admins : config.fleet.announce;
    if (!pool || to.length === 0) return;
    const run = month
      .filter((record) => record.pool === backoff.pool && record.masterId === masterId && record.state === 'failed')
      .sort((a, b) => b.startedAt - a.startedAt || b.id - a.id)
      .slice(0, backoff.failures);
    const episode = Math.min(...run.map((record) => record.startedAt));
    const worker = `latent/${backoff.pool}`;
    const sent = await store.listAlerts({ worker, episode });
    if (sent.some((alert) => alert.kind === 'backoff')) return;
    const lines = run.map((record) => `  ${record.name} (started ${new Date(record.startedAt).toISOString()}): ${record.reason ?? 'failed'}`);
    await sendAndRecord(
      { mailer: deps.mailer, store, clock, log },
      {
        to,
        subject: `Shepherd: on-demand pool ${backoff.pool} is backing off after ${backoff.failures} failed starts`,
        text: [`${backoff.reason}.`, '', 'The failed starts:', ...lines, '', `Provider: ${pool.provider}. Each instance's log is kept by its provider (the local provider: DATA_DIR/latent/POOL/NAME/agent.log).`].join('\n'),
      },
      { kind: 'backoff', worker, episode, sequence: 0, to: [...to] },
    );
  }

  async function alertBudget(report: CostReport): Promise<void> {
    if (!deps.mailer || !budget || config.fleet.announce.length === 0) return;
    const episode = monthBounds(clock.now()).start;
    const sent = await store.listAlerts({ worker: 'latent/budget', episode });
    const alert = budgetAlert(budget, report.spent, report.forecast, clock.now(), new Set(sent.length > 0 ? [`budget-alert:${report.month}`] : []));
    if (!alert) return;
    await sendAndRecord(
      { mailer: deps.mailer, store, clock, log },
      { to: [...config.fleet.announce], subject: alert.subject, text: alert.text },
      { kind: 'budget', worker: 'latent/budget', episode, sequence: 0, to: [...config.fleet.announce] },
    );
  }

  const runs = new SerialRuns(run, (error) => log.error({ err: error }, 'on-demand pool decision failed'));

  await reconcile();
  const unsubscribe = [
    events.on('worker:connected', onConnected),
    events.on('worker:disconnected', () => runs.trigger()),
    events.on('build:queued', () => runs.trigger()),
    events.on('build:started', onStarted),
    events.on('build:finished', onFinished),
    events.on('request:cancelled', () => runs.trigger()),
  ];
  const intervalMs = deps.intervalMs ?? 5_000;
  const schedule = () => {
    timer = clock.setTimeout(() => {
      runs.trigger();
      schedule();
    }, intervalMs);
  };
  if (pools.size > 0) {
    schedule();
    runs.trigger();
  }

  return {
    async tick() {
      runs.trigger();
      await runs.settled();
    },
    settled: () => runs.settled(),
    async stop() {
      timer?.cancel();
      for (const off of unsubscribe) off();
      await runs.stop();
      await writes;
    },
    waitingReason(requestId) {
      const reason = decision?.waiting.get(requestId);
      return reason === undefined ? null : `waiting: ${reason}`;
    },
    async instances(filter) {
      const since = clock.now() - filter.days * 86_400_000;
      const records = await store.listLatentInstances({ since, ...(filter.pool ? { pool: filter.pool } : {}), ...(filter.alive ? { alive: true } : {}) });
      // Live ones from memory: their state is newer than the store's by the writes in flight.
      return records.map((record) => viewOf(live.get(record.id) ?? record));
    },
    async cost() {
      const now = clock.now();
      const { month } = await snapshotFailures();
      const report = costReport(month, prices, budget, now);
      const backoffs = new Map((decision?.backoffs ?? []).map((backoff) => [backoff.pool, backoff]));
      return {
        ...report,
        alertAt: budget?.alert_at ?? null,
        pools: config.latent.map((pool) => ({
          name: pool.name,
          provider: pool.provider,
          costPerHour: pool.cost_per_hour,
          spent: report.perPool.find((entry) => entry.pool === pool.name)?.spent ?? 0,
          running: [...live.values()].filter((record) => record.pool === pool.name && ALIVE(record)).length,
          maxInstances: pool.max_instances,
          when: pool.when,
          backoff: backoffs.get(pool.name) ?? null,
        })),
        notes: decision?.notes ?? [],
      };
    },
  };
}

/** A record as the decisions see it; `id` is the worker name (unique among live instances), which the reasons name. */
function asDecided(record: LatentInstanceRecord): LatentInstance {
  return {
    id: record.name,
    pool: record.pool,
    state: record.state,
    startedAt: record.startedAt,
    connectedAt: record.connectedAt,
    idleSince: record.idleSince,
    stoppedAt: record.stoppedAt,
    builds: record.builds,
  };
}
