/**
 * The weekly digest's I/O shell: at each `fleet.digest.cron` time (croner
 * computes the times, the master's Clock runs the timers) it reads the
 * farm's health and mails the digest to `fleet.announce`; at those times,
 * at start and once a day it also tells each suspect worker's admins, once
 * per suspicion.
 *
 * Both are kept in the fleet's alert ledger: the digest as kind `digest`,
 * worker `*`, episode = its fire time; a suspect mail as kind `suspect`,
 * worker = the worker, episode = the suspicion's `since`. A mail is recorded
 * only after the SMTP server accepted it (as in fleet-service.ts), so a
 * failed one is retried, and a restarted master sends nothing twice. A
 * digest missed while the master was down is not caught up.
 *
 * With `fleet.health.auto_pause_suspects`, a suspect worker is also paused
 * when its admins are told, so the same ledger entry makes the pause happen
 * once per suspicion: an admin who resumes it is not overruled, and a
 * restart does not pause it again. With nobody to mail (no `notify.mail`,
 * or no admin known) the pause is still recorded as a `suspect` entry
 * addressed to no one, which is what it is: the suspicion acted on, nobody told.
 */
import type { Logger } from 'pino';
import type { WorkerView } from '../api/control.js';
import type { HealthJson } from '../api/schemas.js';
import type { Clock, TimerHandle } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Millis } from '../domain.js';
import type { Mailer, MailMessage } from '../notify/mailer.js';
import { nextFireTime } from '../schedulers/nightly.js';
import type { Store } from '../store/store.js';
import { digestMail, suspectMail } from './digest.js';
import { recipients } from './missing-workers.js';
import type { FleetAlert } from './types.js';
import { sendAndRecord } from './ledger-mail.js';
import { SerialRuns } from './serial-runs.js';

/** What the digest service needs from the master. */
export interface DigestDeps {
  config: Readonly<Config>;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** No mailer (no `notify.mail`): the service does nothing. */
  mailer?: Mailer;
  /** Base of links in mail (`master.public_url`, else http://LISTEN). */
  publicUrl: string;
  /** The farm's health now (`readHealth(control, clock.now())`). */
  readHealth(): Promise<HealthJson>;
  /** The coordinator's view of the configured workers (for suspect workers' admins). */
  workers(): Promise<WorkerView[]>;
  /**
   * Pauses a worker as its admin would (`coordinator.setPaused(worker, true, by)`);
   * used only with `fleet.health.auto_pause_suspects`. Without it, nothing is paused.
   */
  pause?: (worker: string, by: string) => Promise<void>;
}

/** The running digest service. */
export interface DigestService {
  /** Cancels the timer and waits for the run in flight. */
  stop(): Promise<void>;
  /** Resolves when no run is queued or in flight (tests wait on it instead of sleeping). */
  settled(): Promise<void>;
}

/** The ledger's worker for the digest, which is about no one worker. */
export const DIGEST_WORKER = '*';

// The start of `suspectPauser`'s answer: a pause found after a restart is known to be the master's own.
const SUSPECT_PAUSER = 'shepherd (suspect:';

/** Who paused a worker, as its pause records it, when the master paused it for a suspicion. */
export function suspectPauser(count: number): string {
  return `${SUSPECT_PAUSER} ${count} failure${count === 1 ? '' : 's'} where peers passed)`;
}

const DAY = 86_400_000;
// A failed mail is retried after this, doubling up to the cap (a digest is dropped at its next fire time).
const RETRY_FIRST_MS = 30_000;
const RETRY_MAX_MS = 3_600_000;

/** Starts the digest timetable: suspect workers are checked at once, the first digest goes at the next fire time. */
export function startDigest(deps: DigestDeps): DigestService {
  const { config, store, clock } = deps;
  const log = deps.logger.child({ component: 'fleet-digest' });
  const digest = config.fleet.digest;
  const announce = recipients(config.fleet.announce);
  const pause = config.fleet.health.auto_pause_suspects ? deps.pause : undefined;
  // Workers this run of the master paused, and when: a suspect mail retried later still says so, and does not pause twice.
  const pausedAt = new Map<string, Millis>();
  let nextDigest = nextFireTime(digest, clock.now());
  let pendingDigest: Millis | null = null;
  let nextSuspects = clock.now();
  let retryAt: Millis | null = null;
  let retryDelay = RETRY_FIRST_MS;
  let timer: TimerHandle | null = null;

  /** Sends, then records; false when it should be tried again. */
  function mail(message: MailMessage, alert: FleetAlert): Promise<boolean> {
    return sendAndRecord({ mailer: deps.mailer!, store, clock, log }, message, alert);
  }

  async function sentAlready(kind: FleetAlert['kind'], worker: string, episode: Millis): Promise<boolean> {
    return (await store.listAlerts({ worker, episode })).some((a) => a.kind === kind);
  }

  /**
   * Whether the admins were told of this suspicion: one recorded with this
   * start, or told after it began (its start moves as old cases leave the
   * window; a suspicion that goes on is not a new one).
   */
  async function toldOf(worker: string, since: Millis): Promise<boolean> {
    const told = (await store.listAlerts({ worker })).filter((a) => a.kind === 'suspect');
    return told.some((a) => a.episode === since || a.sentAt >= since);
  }

  /**
   * Tells a suspect worker's admins and, with auto-pause, pauses it first;
   * once per suspicion (see `toldOf`). False when it should be tried again.
   */
  async function actOnSuspect(suspect: HealthJson['suspect_workers'][number], view: WorkerView | undefined): Promise<boolean> {
    // A worker the master no longer knows (removed from the config): nobody to tell, nothing to pause.
    if (!view) return true;
    const to = deps.mailer ? recipients(view.admins) : [];
    if ((to.length === 0 && !pause) || (await toldOf(suspect.worker, suspect.since))) return true;
    let paused = (pausedAt.get(suspect.worker) ?? -Infinity) >= suspect.since || (view.paused?.by?.startsWith(SUSPECT_PAUSER) ?? false);
    if (pause && !paused && view.paused === null) {
      try {
        await pause(suspect.worker, suspectPauser(suspect.count));
      } catch (error) {
        log.error({ err: error, worker: suspect.worker }, 'pausing a suspect worker failed; trying again later');
        return false;
      }
      pausedAt.set(suspect.worker, clock.now());
      paused = true;
      log.warn({ worker: suspect.worker, count: suspect.count, since: suspect.since }, 'suspect worker paused');
    }
    const alert: FleetAlert = { kind: 'suspect', worker: suspect.worker, episode: suspect.since, sequence: 0, to };
    if (to.length === 0) {
      await store.recordAlerts([{ ...alert, sentAt: clock.now() }]);
      return true;
    }
    return mail({ ...suspectMail(suspect, deps.publicUrl, { paused }), to }, alert);
  }

  async function run(): Promise<void> {
    const now = clock.now();
    if (nextDigest !== null && now >= nextDigest) {
      pendingDigest = nextDigest;
      nextDigest = nextFireTime(digest, now);
    }
    // A digest not delivered by the next fire time is dropped: the next one says it all again.
    if (pendingDigest !== null && nextDigest !== null && now >= nextDigest) pendingDigest = null;
    const checkSuspects = pendingDigest !== null || now >= nextSuspects || (retryAt !== null && now >= retryAt);
    let failed = false;
    const mailDigest = deps.mailer !== undefined && pendingDigest !== null;
    const actOnSuspects = checkSuspects && (deps.mailer !== undefined || pause !== undefined);
    if (mailDigest || actOnSuspects) {
      const health = await deps.readHealth();
      if (deps.mailer && pendingDigest !== null) {
        const episode = pendingDigest;
        if (announce.length === 0 || (await sentAlready('digest', DIGEST_WORKER, episode))) {
          pendingDigest = null;
        } else {
          const alert: FleetAlert = { kind: 'digest', worker: DIGEST_WORKER, episode, sequence: 0, to: announce };
          if (await mail({ ...digestMail(health, now, deps.publicUrl), to: announce }, alert)) pendingDigest = null;
          else failed = true;
        }
      }
      if (actOnSuspects && health.suspect_workers.length > 0) {
        const views = new Map((await deps.workers()).map((w) => [w.name, w]));
        for (const suspect of health.suspect_workers) {
          if (runs.stopped) break;
          if (!(await actOnSuspect(suspect, views.get(suspect.worker)))) failed = true;
        }
      }
    }
    // No mailer: no digest to keep pending (with one, it was sent or waits for its retry).
    if (!deps.mailer) pendingDigest = null;
    if (now >= nextSuspects) nextSuspects = now + DAY;
    if (failed) {
      retryAt = now + retryDelay;
      retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
    } else {
      retryAt = null;
      retryDelay = RETRY_FIRST_MS;
    }
    arm();
  }

  function arm(): void {
    timer?.cancel();
    timer = null;
    if (runs.stopped) return;
    const wake = Math.min(nextDigest ?? Infinity, nextSuspects, retryAt ?? Infinity);
    timer = clock.setTimeout(trigger, Math.max(0, wake - clock.now()));
  }

  const runs = new SerialRuns(run, (error) => {
    log.error({ err: error }, 'fleet digest failed; trying again in a minute');
    retryAt = clock.now() + RETRY_FIRST_MS * 2;
    arm();
  });
  /** Queues a run after the one in flight; several triggers while one waits make one run. */
  function trigger(): void {
    runs.trigger();
  }

  if (nextDigest === null) log.warn({ cron: digest.cron }, 'fleet.digest.cron never fires: no weekly digest');
  if (!deps.mailer) {
    log.info(pause ? 'no notify.mail: no weekly digest and no suspect-worker mail (suspect workers are still paused)' : 'no notify.mail: no weekly digest and no suspect-worker mail');
  }
  if (config.fleet.health.auto_pause_suspects && !deps.pause) log.warn('fleet.health.auto_pause_suspects is set but the digest service has no way to pause workers: suspects are not paused');
  trigger();

  return {
    async stop() {
      timer?.cancel();
      timer = null;
      await runs.stop();
    },
    settled: () => runs.settled(),
  };
}
