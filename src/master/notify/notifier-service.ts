/**
 * The notifiers, wired to the event bus: on `build:started` and
 * `build:finished` it decides who hears about the build, gathers the
 * report from the store and hands each message to the delivery queue, which
 * runs it on its own. Listeners return at once: nothing here can hold up or
 * fail a build.
 */
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Secrets } from '../config/load.js';
import type { Config, NotifierConfig } from '../config/schema.js';
import type { Build, BuildRequest } from '../domain.js';
import type { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';
import { storedWorkerDimensions } from '../tests/worker-separation.js';
import { loadBuildReport, previousCountedBuild } from './build-report.js';
import { coversBuilder, countsForTransitions, shouldNotify, transitionOf } from './decide.js';
import { DeliveryQueue } from './delivery.js';
import { type GithubState, type GithubStatusConfig, finishedState, postGithubStatus, statusContext, statusRequest, statusSha } from './github-status.js';
import { createSmtpMailer, type Mailer, mailAddresses } from './mailer.js';
import { type BuildReport, buildMail, buildUrl, webhookPayload } from './messages.js';
import { postWebhook } from './webhook.js';

/** What the notifiers need from the master. */
export interface NotifierDeps {
  config: Readonly<Config>;
  secrets: Pick<Secrets, 'env'>;
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
  /** Base of links to the web UI (`master.public_url`, else http://LISTEN). */
  publicUrl: string;
  /** Defaults to SMTP through `notify.mail` when that is configured. */
  mailer?: Mailer;
}

/** The running notifiers. */
export interface NotifierService {
  /** Unsubscribes, cancels waiting retries and waits for attempts in flight. */
  stop(): Promise<void>;
  /** Resolves when no notification is being prepared, sent or waiting for a retry (tests wait on it instead of sleeping). */
  idle(): Promise<void>;
  /** Resolves when nothing is being prepared or sent; retries may still be waiting for the clock. */
  settled(): Promise<void>;
}

/** The name `notify:failed` and the logs give the mail to a try build's author. */
export const TRY_AUTHOR_NOTIFIER = 'try-author';

/** Subscribes the configured notifiers to build events. */
export function startNotifiers(deps: NotifierDeps): NotifierService {
  const { config, events, logger } = deps;
  const log = logger.child({ component: 'notify' });
  const mailer = deps.mailer ?? (config.notify.mail ? createSmtpMailer(config.notify.mail, deps.secrets) : undefined);
  const queue = new DeliveryQueue({ clock: deps.clock, logger: log, events, retry: config.notify.retry });
  const notifiers = config.notify.notifiers;
  const github = notifiers.filter((n): n is NotifierConfig & { github_status: GithubStatusConfig } => n.github_status !== undefined);
  // The newest status per commit and context: a retried "pending" must not overwrite the result that followed it.
  const latestStatus = new Map<string, number>();
  let statusSeq = 0;

  function sendStatus(notifier: (typeof github)[number], build: Build, sha: string, state: GithubState): void {
    const cfg = notifier.github_status;
    const token = deps.secrets.env[cfg.token_env];
    if (token === undefined) {
      log.error({ notifier: notifier.name, variable: cfg.token_env }, 'no token for GitHub statuses; skipped');
      return;
    }
    const request = statusRequest(cfg, build, sha, state, buildUrl(deps.publicUrl, build.id));
    const key = `${notifier.name}\0${cfg.repository}\0${sha}\0${statusContext(cfg, build.builder)}`;
    const seq = ++statusSeq;
    latestStatus.set(key, seq);
    queue.deliver({
      notifier: notifier.name,
      buildId: build.id,
      what: `github status ${state}`,
      async send(signal) {
        if (latestStatus.get(key) !== seq) return; // superseded by a newer status
        await postGithubStatus(request, token, signal);
        if (latestStatus.get(key) === seq) latestStatus.delete(key);
      },
    });
  }

  function onStarted(build: Build, request: BuildRequest): void {
    const covering = github.filter((n) => coversBuilder(n, build.builder));
    if (covering.length === 0 || request.patchId !== null) return;
    const sha = statusSha(build);
    if (sha === null) {
      log.debug({ buildId: build.id }, 'build names no revision; no pending GitHub status');
      return;
    }
    for (const notifier of covering) sendStatus(notifier, build, sha, 'pending');
  }

  async function onFinished(build: Build, request: BuildRequest): Promise<void> {
    const isTry = request.patchId !== null;
    // Most builds concern no notifier: spare them the store queries below.
    const concerned = notifiers.some((n) => coversBuilder(n, build.builder)) || (isTry && mailer !== undefined);
    if (!concerned) return;
    const previous = countsForTransitions(build, isTry) ? await previousCountedBuild(deps.store, build) : undefined;
    const transition = transitionOf(build, isTry, previous);
    const speaking = notifiers.filter((n) => n.github_status === undefined && shouldNotify(n, transition, build.builder));
    const state = isTry ? null : finishedState(build.result);
    const sha = statusSha(build);
    const statuses = state === null ? [] : github.filter((n) => coversBuilder(n, build.builder));
    if (statuses.length > 0 && sha === null) log.debug({ buildId: build.id }, 'build names no revision; no GitHub status');
    if (sha !== null && state !== null) for (const notifier of statuses) sendStatus(notifier, build, sha, state);

    const mailTryAuthor = isTry && mailer !== undefined;
    if (speaking.length === 0 && !mailTryAuthor) return;
    const report = await loadBuildReport(deps.store, {
      build,
      request,
      transition,
      publicUrl: deps.publicUrl,
      workerDimensions: () => storedWorkerDimensions(deps.store, deps.config),
    });
    for (const notifier of speaking) dispatch(notifier, report);
    if (mailTryAuthor) mailTo(TRY_AUTHOR_NOTIFIER, report, mailAddresses(report.patch ? [report.patch.author] : []));
  }

  function dispatch(notifier: NotifierConfig, report: BuildReport): void {
    if (notifier.mail) {
      const blamed = notifier.mail.blamelist ? report.blamelist.map((c) => c.author) : [];
      mailTo(notifier.name, report, mailAddresses([...notifier.mail.to, ...blamed]));
    } else if (notifier.webhook) {
      const { url, format, secret_env } = notifier.webhook;
      const payload = webhookPayload(format, report);
      const secret = secret_env === undefined ? undefined : deps.secrets.env[secret_env];
      queue.deliver({
        notifier: notifier.name,
        buildId: report.build.id,
        what: `webhook (${format})`,
        send: (signal) => postWebhook(url, payload, secret, signal),
      });
    }
  }

  function mailTo(notifier: string, report: BuildReport, to: string[]): void {
    if (mailer === undefined) return;
    if (to.length === 0) {
      log.debug({ notifier, buildId: report.build.id }, 'nobody to mail');
      return;
    }
    const message = { to, ...buildMail(report) };
    queue.deliver({ notifier, buildId: report.build.id, what: `mail to ${to.length}`, send: () => mailer.send(message) });
  }

  const unsubscribe = [
    events.on('build:started', ({ build, request }) => onStarted(build, request)),
    events.on('build:finished', ({ build, request, requeued }) => {
      if (requeued) return;
      queue.track(() => onFinished(build, request));
    }),
  ];

  return {
    async stop() {
      for (const off of unsubscribe) off();
      await queue.stop();
    },
    idle: () => queue.idle(),
    settled: () => queue.settled(),
  };
}

/** The base of links in notifications: `master.public_url`, else the listen address. */
export function publicUrlOf(config: Pick<Config, 'master'>): string {
  return config.master.public_url ?? `http://${config.master.listen}`;
}
