/**
 * Joining the farm: a volunteer proposes a worker (`shepherd join`, the web
 * form), operators approve or decline it, and approval creates the worker
 * in the database next to the config file's workers. The volunteer holds a
 * token (only its hash is stored) with which it collects the outcome; the
 * new worker's secret is made when it is collected, shown that once, and
 * kept only as a hash. Retiring a registered worker stops it connecting and
 * keeps its builds and presence history.
 *
 * This is the I/O shell; what is mailed when is `application-mail.ts`.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Millis } from '../domain.js';
import { ShepherdError } from '../errors.js';
import type { MasterEventBus } from '../events.js';
import type { Mailer } from '../notify/mailer.js';
import { workerMatchesBuilder } from '../scheduling/match.js';
import { hashSecret, matchesHash, newSecret } from '../secrets.js';
import type { Application, ApplicationState, RegisteredWorker, Store } from '../store/store.js';
import { applicationKey, applicationMail, decideApplicationMail, nextApplicationMailAt, type ApplicationMailSettings } from './application-mail.js';
import { workerOnPlatform } from './coverage.js';
import { workerAddress } from './fleet-mail.js';
import { sendAndRecord } from './ledger-mail.js';
import { SerialRuns } from './serial-runs.js';

/** What a volunteer proposes. */
export interface JoinInput {
  name: string;
  dimensions: Record<string, string>;
  maxBuilds: number;
  /** "Name <mail>". */
  contact: string;
  notes: string | null;
}

/** An application with what its dimensions would cover (for operators deciding). */
export interface ApplicationView extends Application {
  platforms: string[];
  builders: string[];
}

/** What the volunteer sees with its token. */
export interface ApplicationStatus {
  id: number;
  state: ApplicationState;
  reason: string | null;
  worker: string | null;
  /** The worker's secret: only in the first answer after approval. */
  secret: string | null;
  secretCollectedAt: Millis | null;
  /** First answer after approval: the command that starts the agent, and its config file. */
  command: string | null;
  config: string | null;
}

/** The part of the coordinator that knows which workers exist. */
export interface WorkerDirectory {
  workerSource(name: string): 'config' | 'registered' | 'latent' | undefined;
  addRegisteredWorker(worker: RegisteredWorker): void;
  setWorkerSecretHash(name: string, hash: string): void;
  removeRegisteredWorker(name: string): void;
}

/** What the API may ask about applications and registered workers. */
export interface ApplicationControl {
  /** SHEPHERD_E_FORBIDDEN when joining is closed, SHEPHERD_E_TOO_MANY past `max_pending`, SHEPHERD_E_CONFLICT on a taken name. */
  submit(input: JoinInput): Promise<{ application: ApplicationView; token: string }>;
  list(state?: ApplicationState): Promise<ApplicationView[]>;
  get(id: number): Promise<ApplicationView>;
  approve(id: number, decision: { by: string; name?: string; maxBuilds?: number }): Promise<ApplicationView>;
  decline(id: number, decision: { by: string; reason: string }): Promise<ApplicationView>;
  /** The volunteer's view, with the token from `submit`; collects the secret on the first call after approval. */
  status(id: number, token: string): Promise<ApplicationStatus>;
  retire(name: string, by: string): Promise<RegisteredWorker>;
  /** Retired workers, most recently retired first. */
  retired(): Promise<RegisteredWorker[]>;
}

/** What the service needs. */
export interface ApplicationsDeps {
  config: Readonly<Config>;
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
  publicUrl: string;
  mailer: Mailer | undefined;
  directory: WorkerDirectory;
}

// A mail that failed is tried again after this (doubling, capped).
const RETRY_FIRST_MS = 30_000;
const RETRY_MAX_MS = 3_600_000;
// Decisions are mailed to volunteers for this long after they were made; older ones were mailed or given up.
const DECISION_MAIL_WINDOW_MS = 7 * 86_400_000;

/** The applications service: the API facade, and the mail to operators and volunteers. */
export class Applications implements ApplicationControl {
  readonly #deps: ApplicationsDeps;
  readonly #log: Logger;
  readonly #settings: ApplicationMailSettings;
  #timer: TimerHandle | null = null;
  readonly #runs: SerialRuns;
  #retryDelay = RETRY_FIRST_MS;

  constructor(deps: ApplicationsDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'applications' });
    this.#settings = { operators: deps.config.fleet.operators, remindEvery: deps.config.fleet.remind_every };
    this.#runs = new SerialRuns(
      () => this.#run(),
      (error) => {
        this.#log.error({ err: error }, 'application mail run failed; trying again later');
        this.#arm(this.#deps.clock.now() + this.#backoff());
      },
    );
  }

  /** Starts mailing: at once, on every submission and decision, and when a reminder falls due. */
  start(): void {
    const { events } = this.#deps;
    events.on('application:submitted', () => this.#trigger());
    events.on('application:decided', () => this.#trigger());
    if (!this.#deps.mailer) this.#log.info('no notify.mail: applications are listed but nobody is mailed about them');
    else if (this.#settings.operators.length === 0) this.#log.info('no fleet.operators: nobody is mailed about new applications');
    this.#trigger();
  }

  async stop(): Promise<void> {
    this.#timer?.cancel();
    await this.#runs.stop();
  }

  /** Resolves once no mail run is in flight or queued (tests). */
  settled(): Promise<void> {
    return this.#runs.settled();
  }

  // ------------------------------------------------------------------ the API facade

  async submit(input: JoinInput): Promise<{ application: ApplicationView; token: string }> {
    const { config, store, clock, directory, events } = this.#deps;
    if (!config.fleet.join.open) {
      throw new ShepherdError('SHEPHERD_E_FORBIDDEN', 'this farm does not take applications (fleet.join.open is false); ask its operators');
    }
    if (directory.workerSource(input.name) !== undefined) {
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `a worker named "${input.name}" already exists: propose another name`, { details: { field: 'name' } });
    }
    const pending = await store.listApplications({ state: 'pending' });
    if (pending.length >= config.fleet.join.max_pending) {
      throw new ShepherdError('SHEPHERD_E_TOO_MANY', `${pending.length} applications are already waiting for the operators; try again once they have decided`);
    }
    const token = newSecret();
    const application = await store.createApplication({ ...input, tokenHash: hashSecret(token), submittedAt: clock.now() });
    this.#log.info({ application: application.id, name: application.name }, 'worker offered');
    events.emit('application:submitted', { application });
    return { application: this.#view(application), token };
  }

  async list(state?: ApplicationState): Promise<ApplicationView[]> {
    return (await this.#deps.store.listApplications(state ? { state } : {})).map((a) => this.#view(a));
  }

  async get(id: number): Promise<ApplicationView> {
    return this.#view(await this.#find(id));
  }

  async approve(id: number, decision: { by: string; name?: string; maxBuilds?: number }): Promise<ApplicationView> {
    const { store, clock, directory, events } = this.#deps;
    const application = await this.#find(id);
    if (application.state !== 'pending') throw notPending(application);
    const name = decision.name ?? application.name;
    if (directory.workerSource(name) !== undefined) {
      throw new ShepherdError('SHEPHERD_E_CONFLICT', `a worker named "${name}" already exists: approve it under another name (--name)`, { details: { field: 'name' } });
    }
    const done = await store.approveApplication(id, {
      by: decision.by,
      at: clock.now(),
      worker: { name, dimensions: application.dimensions, maxBuilds: decision.maxBuilds ?? application.maxBuilds, admins: [application.contact], notes: application.notes },
    });
    if (!done) throw notPending((await store.getApplication(id)) ?? application);
    directory.addRegisteredWorker(done.worker);
    this.#log.info({ application: id, worker: name, by: decision.by }, 'application approved');
    events.emit('application:decided', { application: done.application });
    return this.#view(done.application);
  }

  async decline(id: number, decision: { by: string; reason: string }): Promise<ApplicationView> {
    const { store, clock, events } = this.#deps;
    const application = await this.#find(id);
    if (application.state !== 'pending') throw notPending(application);
    const declined = await store.declineApplication(id, { ...decision, at: clock.now() });
    if (!declined) throw notPending((await store.getApplication(id)) ?? application);
    this.#log.info({ application: id, by: decision.by }, 'application declined');
    events.emit('application:decided', { application: declined });
    return this.#view(declined);
  }

  async status(id: number, token: string): Promise<ApplicationStatus> {
    const { store, clock, directory } = this.#deps;
    const application = await store.getApplication(id);
    // One answer for "no such application" and "wrong token": the id alone tells nothing.
    if (!application || !matchesHash(token, application.tokenHash)) {
      throw new ShepherdError('SHEPHERD_E_UNAUTHORIZED', `no application ${id} with that token: use the id and token \`shepherd join\` printed`);
    }
    const status: ApplicationStatus = {
      id, state: application.state, reason: application.reason, worker: application.worker,
      secret: null, secretCollectedAt: null, command: null, config: null,
    };
    if (application.state !== 'approved' || application.worker === null) return status;
    if (directory.workerSource(application.worker) !== 'registered') {
      // Retired before its volunteer came back: no secret for a worker that may not connect.
      const worker = (await store.listRegisteredWorkers()).find((w) => w.name === application.worker);
      return { ...status, reason: `worker "${application.worker}" was retired${worker?.retiredBy ? ` by ${worker.retiredBy}` : ''}`, secretCollectedAt: worker?.secretCollectedAt ?? null };
    }
    const secret = newSecret();
    const hash = hashSecret(secret);
    const now = clock.now();
    if (await store.collectWorkerSecret(id, hash, now)) {
      directory.setWorkerSecretHash(application.worker, hash);
      this.#log.info({ application: id, worker: application.worker }, 'worker secret collected');
      return { ...status, secret, secretCollectedAt: now, ...startCommand(application, secret, this.#deps.publicUrl) };
    }
    const worker = (await store.listRegisteredWorkers()).find((w) => w.name === application.worker);
    return { ...status, secretCollectedAt: worker?.secretCollectedAt ?? null };
  }

  async retire(name: string, by: string): Promise<RegisteredWorker> {
    const { store, clock, directory, events } = this.#deps;
    const source = directory.workerSource(name);
    if (source === undefined) {
      const known = (await store.listRegisteredWorkers()).find((w) => w.name === name);
      if (known?.retiredAt != null) throw new ShepherdError('SHEPHERD_E_CONFLICT', `worker "${name}" was already retired`, { details: { worker: name } });
      throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no worker named "${name}"; GET /api/v1/workers lists them`);
    }
    // Refuses a config worker, or one running builds, before anything is stored.
    directory.removeRegisteredWorker(name);
    const retired = await store.retireWorker(name, by, clock.now());
    if (!retired) throw new ShepherdError('SHEPHERD_E_CONFLICT', `worker "${name}" was already retired`, { details: { worker: name } });
    this.#log.info({ worker: name, by }, 'worker retired');
    events.emit('worker:retired', { worker: retired });
    return retired;
  }

  async retired(): Promise<RegisteredWorker[]> {
    return (await this.#deps.store.listRegisteredWorkers())
      .filter((w) => w.retiredAt !== null)
      .sort((a, b) => b.retiredAt! - a.retiredAt!);
  }

  async #find(id: number): Promise<Application> {
    const application = await this.#deps.store.getApplication(id);
    if (!application) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no application with id ${id}; GET /api/v1/applications lists them`);
    return application;
  }

  #view(application: Application): ApplicationView {
    const { config } = this.#deps;
    return {
      ...application,
      platforms: config.platforms.filter((p) => workerOnPlatform(p, application.dimensions)).map((p) => p.name),
      builders: config.builders.filter((b) => workerMatchesBuilder(b.workers, application.name, application.dimensions)).map((b) => b.name),
    };
  }

  // ------------------------------------------------------------------ mail

  #trigger(): void {
    this.#runs.trigger();
  }

  #backoff(): Millis {
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(delay * 2, RETRY_MAX_MS);
    return delay;
  }

  async #run(): Promise<void> {
    const { store, clock, mailer } = this.#deps;
    const now = clock.now();
    const all = await store.listApplications({});
    const pending = all.filter((a) => a.state === 'pending');
    if (!mailer) return;
    const recent = all.filter((a) => a.state === 'pending' || (a.decidedAt !== null && now - a.decidedAt <= DECISION_MAIL_WINDOW_MS));
    const sent = (await Promise.all(recent.map((a) => store.listAlerts({ worker: applicationKey(a.id) })))).flat();
    let failed = false;
    for (const alert of decideApplicationMail(recent, sent, now, this.#settings)) {
      if (this.#runs.stopped) return;
      const application = recent.find((a) => applicationKey(a.id) === alert.worker)!;
      const view = this.#view(application);
      const message = applicationMail(alert, application, { now, publicUrl: this.#deps.publicUrl, platforms: view.platforms, builders: view.builders, pending: pending.length });
      if (!(await sendAndRecord({ mailer, store, clock, log: this.#log }, message, alert))) failed = true;
    }
    if (failed) {
      this.#arm(now + this.#backoff());
      return;
    }
    this.#retryDelay = RETRY_FIRST_MS;
    const next = nextApplicationMailAt(pending, now, this.#settings);
    if (next !== null) this.#arm(next);
  }

  #arm(at: Millis): void {
    this.#timer?.cancel();
    if (this.#runs.stopped) return;
    this.#timer = this.#deps.clock.setTimeout(() => this.#trigger(), Math.max(0, at - this.#deps.clock.now()));
  }
}

function notPending(application: Application): ShepherdError {
  return new ShepherdError('SHEPHERD_E_CONFLICT', `application ${application.id} was already ${application.state}${application.decidedBy ? ` by ${application.decidedBy}` : ''}`);
}

/** The exact way to start the new worker's agent: a config file, and the command. */
function startCommand(application: Application, secret: string, publicUrl: string): { command: string; config: string } {
  const base = publicUrl.replace(/\/+$/, '');
  const config = [
    `# Shepherd worker "${application.worker}" (application ${application.id})`,
    `master: ${workerAddress(base)}`,
    `name: ${application.worker}`,
    'secret_env: SHEPHERD_WORKER_SECRET',
    'dir: ./shepherd-work',
    `admin: ${JSON.stringify(application.contact)}`,
    '',
  ].join('\n');
  // The secret is base64url: safe unquoted in a shell.
  const command = [
    `curl -fsSLO ${base}/worker/shepherd-worker.mjs`,
    `SHEPHERD_WORKER_SECRET=${secret} node shepherd-worker.mjs --config worker.yml`,
  ].join('\n');
  return { command, config };
}
