/**
 * The fleet's I/O shell: on start, on every worker connect and disconnect,
 * and on a timer at the next moment something may be due, it gathers what
 * is known of each configured worker, asks the pure decisions what its
 * state is and which mails are due, mails them and records them in the
 * store's ledger, and emits `worker:state` when a state changes.
 *
 * A mail is recorded in the ledger only after the SMTP server accepted it:
 * a failed delivery is decided again and retried (with backoff), never
 * lost. The Store has no "pending" mark to record first and confirm later,
 * so a master killed between the server's acceptance and the write may
 * repeat that one mail after it restarts; a clean stop waits for the run in
 * flight, so a normal restart repeats nothing. Runs are serialised, so one
 * master never decides the same mail twice at once.
 */
import type { Logger } from 'pino';
import type { WorkerView } from '../api/control.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Millis } from '../domain.js';
import type { MasterEventBus } from '../events.js';
import type { Mailer } from '../notify/mailer.js';
import { workerMatchesBuilder } from '../scheduling/match.js';
import type { Store, WorkerRow } from '../store/store.js';
import { orphanBuilders, platformCoverage } from './coverage.js';
import { fleetMail } from './fleet-mail.js';
import type { Maintained } from './maintenance.js';
import { decideAlerts, nextDecisionAt, type EscalationSettings } from './missing-workers.js';
import { fleetState } from './presence.js';
import type { FleetAlert, FleetState, FleetWorker, SentAlert } from './types.js';
import { sendAndRecord } from './ledger-mail.js';
import { SerialRuns } from './serial-runs.js';

/** What the fleet service needs from the master. */
export interface FleetDeps {
  config: Readonly<Config>;
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
  /** No mailer (no `notify.mail`): states are kept, nothing is mailed or recorded. */
  mailer?: Mailer;
  /** Base of links in mail (`master.public_url`, else http://LISTEN). */
  publicUrl: string;
  /** The coordinator's view of the configured workers. */
  workers(): Promise<WorkerView[]>;
}

/** The running fleet service. */
export interface FleetService {
  /** Unsubscribes, cancels the timer and waits for the run in flight. */
  stop(): Promise<void>;
  /** Each configured worker's state now. */
  states(): Promise<Map<string, FleetState>>;
  /** Resolves when no decision run is queued or in flight (tests wait on it instead of sleeping). */
  settled(): Promise<void>;
}

// A failed mail is retried after this, doubling up to the cap, or earlier if a decision is due anyway.
const RETRY_FIRST_MS = 30_000;
const RETRY_MAX_MS = 3_600_000;

/**
 * What the fleet knows of one worker. Admins: the view's (config, else the
 * contact its admin set, else what the agent reported). Disconnected: since
 * the store's `lastSeen`, unless the store has not caught up with a
 * disconnect that just happened (its row still says connected), then since
 * the disconnect event. Maintenance windows: the view's (config, the agent's own
 * config, and those its admin set).
 */
export function fleetWorkerOf(
  view: WorkerView,
  entry: Config['workers'][number] | undefined,
  row: WorkerRow | undefined,
  paused: boolean,
  context: { fleetMissingAfter: Millis; disconnectSeen: Millis | undefined; now: Millis },
): FleetWorker & Maintained {
  const reported = typeof view.info?.admin === 'string' && view.info.admin.trim() !== '' ? [view.info.admin.trim()] : [];
  const admins = view.admins.length > 0 ? [...view.admins] : entry && entry.admins.length > 0 ? [...entry.admins] : reported;
  let disconnectedAt: Millis | null = null;
  if (!view.connected && row) {
    disconnectedAt = row.connectedAt === null ? row.lastSeen : (context.disconnectSeen ?? context.now);
  }
  return {
    name: view.name,
    admins,
    dimensions: { ...view.dimensions },
    connected: view.connected,
    building: view.state === 'building',
    paused: paused || view.paused !== null,
    disconnectedAt,
    missingAfter: entry?.missing_after ?? context.fleetMissingAfter,
    maintenance: view.maintenance.map((w) => ({ cron: w.cron, duration: w.duration })),
  };
}

/** Starts watching the fleet; the first decision run starts at once. */
export function startFleet(deps: FleetDeps): FleetService {
  const { config, store, events, clock } = deps;
  const log = deps.logger.child({ component: 'fleet' });
  const settings: EscalationSettings = {
    remindEvery: config.fleet.remind_every,
    orphanAfter: config.fleet.orphan_after,
    announce: [...config.fleet.announce],
  };
  const entries = new Map(config.workers.map((w) => [w.name, w]));
  const builders = config.builders.map((b) => ({ name: b.name, workers: b.workers }));
  const disconnectSeen = new Map<string, Millis>();
  // The last `worker:state` announced per worker, by anyone (the coordinator announces pause and resume).
  const announced = new Map<string, string>();
  let announcing = false;
  let states = new Map<string, FleetState>();
  let timer: TimerHandle | null = null;
  let retryDelay = RETRY_FIRST_MS;
  if (!deps.mailer) log.info('no notify.mail: missing workers are tracked but nobody is mailed');

  async function mail(alert: FleetAlert, worker: FleetWorker, all: FleetWorker[], notes: string | null, now: Millis): Promise<boolean> {
    const live = all.map((w) => ({ name: w.name, dimensions: w.dimensions, live: w.connected && !w.paused }));
    const mine = builders.filter((b) => workerMatchesBuilder(b.workers, worker.name, worker.dimensions));
    const coverage = platformCoverage(config.platforms, live, builders).filter((p) => p.workers.includes(worker.name));
    const message = fleetMail(alert, {
      worker,
      now,
      publicUrl: deps.publicUrl,
      builders: mine.map((b) => b.name),
      shortBuilders: orphanBuilders(mine, live),
      platforms: coverage,
      notes,
    });
    return sendAndRecord({ mailer: deps.mailer!, store, clock, log }, message, alert);
  }

  async function decide(): Promise<void> {
    const now = clock.now();
    // One read of each table whatever the fleet's size: a run follows every connect, and
    // 5,000 workers reconnecting after a restart must not cost 5,000 queries each.
    const [views, rows, flags, ledger] = await Promise.all([deps.workers(), store.listWorkers(), store.getWorkerFlags(), store.listAlerts({})]);
    const rowOf = new Map(rows.map((r) => [r.name, r]));
    const viewOf = new Map(views.map((v) => [v.name, v]));
    const sentTo = new Map<string, SentAlert[]>();
    for (const alert of ledger) {
      const list = sentTo.get(alert.worker);
      if (list) list.push(alert);
      else sentTo.set(alert.worker, [alert]);
    }
    const flagOf = new Map(flags.map((f) => [f.worker, f]));
    const workers = views.map((view) =>
      fleetWorkerOf(view, entries.get(view.name), rowOf.get(view.name), flagOf.get(view.name)?.paused ?? false, {
        fleetMissingAfter: config.fleet.missing_after,
        disconnectSeen: disconnectSeen.get(view.name),
        now,
      }),
    );

    const next = new Map<string, FleetState>();
    let wake: Millis | null = null;
    let failed = false;
    for (const worker of workers) {
      const state = fleetState(worker, now, settings);
      next.set(worker.name, state);
      const before = announced.get(worker.name) ?? states.get(worker.name);
      if (before !== undefined && before !== state) {
        announcing = true;
        try {
          events.emit('worker:state', { worker: worker.name, from: before, to: state });
        } finally {
          announcing = false;
        }
      }
      if (worker.connected) disconnectSeen.delete(worker.name);

      const sent = sentTo.get(worker.name) ?? [];
      if (deps.mailer) {
        const notes = viewOf.get(worker.name)?.notes ?? entries.get(worker.name)?.notes ?? null;
        for (const alert of decideAlerts(worker, sent, now, settings)) {
          if (runs.stopped) break;
          if (!(await mail(alert, worker, workers, notes, now))) failed = true;
        }
      }
      const at = nextDecisionAt(worker, sent, now, settings);
      if (at !== null) wake = wake === null ? at : Math.min(wake, at);
    }
    states = next;

    if (failed) {
      wake = Math.min(wake ?? Infinity, now + retryDelay);
      retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
    } else {
      retryDelay = RETRY_FIRST_MS;
    }
    timer?.cancel();
    timer = wake === null || runs.stopped ? null : clock.setTimeout(trigger, Math.max(0, wake - clock.now()));
  }

  const runs = new SerialRuns(
    decide,
    (error) => {
      log.error({ err: error }, 'fleet decisions failed; trying again at the next event or in a minute');
      timer?.cancel();
      timer = runs.stopped ? null : clock.setTimeout(trigger, RETRY_FIRST_MS * 2);
    },
    // Every connect and disconnect triggers a run over the whole fleet: a big farm's reconnect storm must leave the event loop to the connections.
    { busyShare: 0.1 },
  );
  /** Queues a decision run after the one in flight; several triggers while one waits make one run. */
  function trigger(): void {
    runs.trigger();
  }

  const unsubscribe = [
    events.on('worker:connected', () => trigger()),
    events.on('worker:disconnected', ({ worker }) => {
      disconnectSeen.set(worker, clock.now());
      trigger();
    }),
    // Paused or resumed: decide again (a paused worker raises nothing).
    events.on('worker:state', ({ worker, to }) => {
      announced.set(worker, to);
      if (!announcing) trigger();
    }),
  ];
  trigger();

  return {
    async stop() {
      for (const off of unsubscribe) off();
      timer?.cancel();
      timer = null;
      await runs.stop();
    },
    async states() {
      await runs.idle();
      return new Map(states);
    },
    settled: () => runs.settled(),
  };
}
