/**
 * Starting and stopping a master: config → secrets → store → coordinator →
 * HTTP server (REST, worker WebSocket, metrics). Anything wrong with the
 * configuration is refused before anything starts.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import type { ChangeSourceControl } from './api/control.js';
import { readHealth } from './api/routes/health.js';
import { registerHookRoutes } from './api/routes/hooks.js';
import { createHttpServer } from './api/server.js';
import { recordWorkdirKept } from './builds/keep-workdir.js';
import { Coordinator, type StepTestResults } from './builds/coordinator.js';
import { systemClock, type Clock } from './clock.js';
import { loadConfig, readSecrets, type Secrets } from './config/load.js';
import type { Config } from './config/schema.js';
import { MasterEventBus } from './events.js';
import { GitPoller } from './changes/git-poller.js';
import { ShepherdError } from './errors.js';
import { startBuildbotListener, type BuildbotListener } from './buildbot/listener.js';
import type { Authentication } from './workers/credentials.js';
import { startPoolService, type LatentControl, type PoolService } from './latent/pool-service.js';
import { createProviders } from './latent/providers/index.js';
import { workerBundlePath } from './api/web-ui.js';
import type { LatentProvider } from './latent/providers/provider.js';
import { startDigest } from './fleet/digest-service.js';
import { startFleet } from './fleet/fleet-service.js';
import { startHealthHistory } from './fleet/health-history.js';
import { startDebugService } from './debug/debug-service.js';
import { startFileRetention } from './files/retention.js';
import { StoredFiles } from './files/stored-files.js';
import { UploadSink } from './files/upload-sink.js';
import { TestResultsService } from './tests/test-results-service.js';
import { Applications } from './fleet/applications.js';
import { registerHealthMetrics } from './fleet/health-metrics.js';
import { createMetrics } from './metrics.js';
import { createSmtpMailer } from './notify/mailer.js';
import { startNotifiers } from './notify/notifier-service.js';
import { SchedulerService } from './schedulers/scheduler-service.js';
import { openStore } from './store/open-store.js';
import { CLOSE, acceptAgentSocket, type AgentConnection } from './workers/agent-connection.js';

/** How to start a master: from a config file, or from an already validated config (tests, the demo). */
export type MasterOptions = (
  | { configPath: string; config?: undefined; secrets?: undefined }
  | { config: Readonly<Config>; secrets: Secrets; configPath?: undefined }
) & {
  logLevel?: string;
  logger?: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
};

/** A running master. */
export interface RunningMaster {
  /** The HTTP base address, e.g. http://127.0.0.1:8010. */
  url: string;
  /** The worker WebSocket base address, e.g. ws://127.0.0.1:8010. */
  workerUrl: string;
  events: MasterEventBus;
  coordinator: Coordinator;
  close(): Promise<void>;
}

function splitListen(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

/** Starts a master and resolves once it listens. */
export async function startMaster(options: MasterOptions): Promise<RunningMaster> {
  const config = options.config ?? loadConfig(options.configPath!);
  const secrets = options.secrets ?? readSecrets(config, options.env ?? process.env);
  const logger = options.logger ?? pino({ level: options.logLevel ?? 'info' }, pino.destination(2));
  const clock = options.clock ?? systemClock;
  if (!secrets.apiToken) {
    logger.warn(`no API token: write calls are refused until ${config.master.api_token_env ?? 'master.api_token_env'} is set`);
  }
  mkdirSync(config.master.data_dir, { recursive: true });

  const events = new MasterEventBus((event, error) => logger.error({ err: error, event }, 'event listener failed'));
  const store = await openStore(config.master.database);
  // Files workers send back (artifacts, JUnit XML), and what reads them.
  const artifacts = config.master.artifacts;
  const storedFiles = new StoredFiles({ store, dataDir: config.master.data_dir });
  const uploads = new UploadSink({ store, dataDir: config.master.data_dir, clock, logger, maxFileBytes: artifacts.max_file, maxBuildBytes: artifacts.max_build });
  const tests = new TestResultsService({ store, config, clock });
  const testResults: StepTestResults = {
    afterStep: (context) => tests.afterStep(context),
    afterRerun: (context, original) => tests.afterRerun(context, original),
    async junitFiles(stepId) {
      const files = await storedFiles.forStep(stepId, 'test_results');
      return files.filter((f) => f.skipped === null).map((f) => ({ name: f.name, open: () => storedFiles.read(f.id) }));
    },
  };
  let coordinator: Coordinator;
  let providers: Map<string, LatentProvider>;
  try {
    // A pool whose provider cannot be made (no agent bundle for a local pool) is refused before anything starts.
    providers = createProviders(config.latent, {
      masterId: config.master.id,
      dataDir: config.master.data_dir,
      configDir: options.configPath ? dirname(resolve(options.configPath)) : process.cwd(),
      bundle: workerBundlePath(),
      env: options.env ?? process.env,
      clock,
    });
    // Workers approved from applications join the config file's; a name in both is refused here, before anything starts.
    const registered = (await store.listRegisteredWorkers()).filter((w) => w.retiredAt === null);
    coordinator = new Coordinator({
      config, store, events, clock, logger, apiToken: secrets.apiToken, workerSecrets: secrets.workers, registered, uploads, testResults,
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  const schedulers = new SchedulerService({ config, store, events, clock, logger, submit: (input) => coordinator.force(input) });
  const pollers = new Map(
    config.changes.map((source) => [
      source.name,
      new GitPoller({ source, mirrorDir: join(config.master.data_dir, 'changes', `${source.name}.git`), store, events, clock, logger }),
    ]),
  );
  const sources: ChangeSourceControl = {
    poll(name) {
      const poller = pollers.get(name);
      if (!poller) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no change source named "${name}"`);
      return poller.pollOnce();
    },
  };
  const registry = new Registry();
  const metrics = createMetrics(events, registry);
  registerHealthMetrics(registry, () => readHealth(coordinator, clock.now()), () => clock.now());

  // Known once listening (the port may be 0); links in API replies use it.
  let publicUrl = config.master.public_url?.replace(/\/+$/, '') ?? '';
  // One SMTP transport for every feature that mails.
  const mailer = config.notify.mail ? createSmtpMailer(config.notify.mail, secrets) : undefined;
  const debug = startDebugService({
    config,
    store,
    clock,
    logger,
    mailer,
    publicUrl: () => publicUrl,
    adminsOf: async (worker) => (await coordinator.workers()).find((w) => w.name === worker)?.admins ?? [],
  });
  const connections = new Set<AgentConnection>();
  const heartbeatMs = config.master.heartbeat_interval;
  // A Buildbot worker's password is for its own listener, never for the agent's path.
  const buildbotWorkers = new Set(config.workers.filter((worker) => worker.protocol === 'buildbot').map((worker) => worker.name));
  // The secret is checked first, as for any worker: only its holder learns the name is a Buildbot worker's.
  const verifyAgent = (name: string, secret: string): Authentication => {
    if (!buildbotWorkers.has(name)) return coordinator.authenticateWorker(name, secret);
    const verdict = coordinator.verifyWorker(name, secret);
    return { verdict: verdict === 'ok' ? 'buildbot' : verdict };
  };
  const onWorkerSocket = (socket: WebSocket, remote: string) =>
    acceptAgentSocket(socket, remote, { verify: (name, secret) => verifyAgent(name, secret), handler: coordinator, events, clock, logger, heartbeatMs, sink: uploads, debug: debug.onMessage, keep: (connection, message) => void recordWorkdirKept({ store, logger }, connection.name, message).catch((error: unknown) => logger.error({ err: error }, 'recording a kept tree failed')) }, (connection) => {
      connections.add(connection);
      debug.connected(connection);
      socket.once('close', () => {
        connections.delete(connection);
        debug.disconnected(connection);
      });
    });

  const applications = new Applications({ config, store, events, clock, logger, mailer, directory: coordinator, get publicUrl() { return publicUrl; } });

  // The on-demand pools (started below); the API asks them through this.
  let pools: PoolService | undefined;
  const latent: LatentControl = {
    waitingReason: (requestId) => pools?.waitingReason(requestId) ?? null,
    instances: async (filter) => (pools ? pools.instances(filter) : []),
    cost: async () => {
      if (!pools) throw new ShepherdError('SHEPHERD_E_UNAVAILABLE', 'the on-demand pools are not running (starting, or they failed to start: see the master log)');
      return pools.cost();
    },
  };

  const app = await createHttpServer(coordinator, {
    applications,
    latent,
    debug: debug.broker,
    publicUrl: () => publicUrl,
    logger,
    registry,
    onWorkerSocket: (socket, request) => onWorkerSocket(socket, request.ip),
    schedulers,
    sources,
    extraRoutes: (app) => registerHookRoutes(app, { config, secrets, store, events, clock, logger }),
  });

  // One sweep for all connections closes the silent ones. Nothing is sent: agents
  // hear the master through the pongs to their own WebSocket pings.
  const sweep = setInterval(() => {
    const now = clock.now();
    for (const connection of connections) {
      if (now - connection.lastHeard > 3 * heartbeatMs) connection.close('no heartbeat for three intervals', CLOSE.heartbeat);
    }
  }, heartbeatMs);
  sweep.unref();

  // Instances are adopted before the builds left running are reloaded: a build on an adopted instance waits for it to reconnect.
  // Decisions (and so new instances, which need the master's address) wait until it listens.
  let localWorkerUrl = '';
  let listening!: () => void;
  let notListening!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    listening = resolve;
    notListening = reject;
  });
  ready.catch(() => {}); // a master that never listened makes no decision; the error is the listen's
  try {
    pools = await startPoolService({
      config, store, events, clock, logger, mailer, providers, workers: coordinator, ready,
      // Local instances run on this host; the others reach the master at its public address.
      masterUrl: (pool) => (pool.provider === 'local' ? localWorkerUrl : publicUrl.replace(/^http/, 'ws')),
    });
  } catch (error) {
    logger.error({ err: error }, 'the on-demand pools could not start (reconciling with their providers failed); no instance will be started');
  }
  await coordinator.recover();
  // Schedulers listen for changes before any poller can find one.
  await schedulers.start();
  metrics.seed({
    queuedRequestIds: (await store.listQueuedRequests()).map((r) => r.id),
    runningBuildIds: (await store.listBuilds({ state: 'running', limit: 1_000_000 })).map((b) => b.id),
    connectedWorkers: [],
  });
  const { host, port } = splitListen(config.master.listen);
  let buildbot: BuildbotListener | undefined;
  try {
    await app.listen({ host, port });
    if (config.master.buildbot_listen) {
      const listen = splitListen(config.master.buildbot_listen);
      buildbot = await startBuildbotListener({
        ...listen,
        verify: (name, password) => coordinator.verifyWorker(name, password),
        isBuildbotWorker: (name) => buildbotWorkers.has(name),
        handler: coordinator,
        clock,
        logger,
        keepaliveMs: heartbeatMs,
        sink: uploads,
      });
      logger.info({ listen: config.master.buildbot_listen, port: buildbot.port }, 'listening for Buildbot workers');
    }
  } catch (error) {
    notListening(error);
    await pools?.stop();
    await app.close();
    await schedulers.stop();
    await coordinator.stop();
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const url = `http://${hostPart}:${actualPort}`;
  publicUrl ||= url;
  applications.start();
  localWorkerUrl = url.replace(/^http/, 'ws');
  listening();
  const retention = startFileRetention({
    store,
    files: storedFiles,
    clock,
    logger,
    policy: { keepForMs: artifacts.keep_for, maxTotalBytes: artifacts.max_total },
  });
  // On-demand instances come and go by design: nobody is mailed about them as missing or suspect.
  const volunteerWorkers = async () => (await coordinator.workers()).filter((worker) => worker.source !== 'latent');
  const notifiers = startNotifiers({ config, secrets, store, events, clock, logger, publicUrl, ...(mailer ? { mailer } : {}) });
  const fleet = startFleet({
    config,
    store,
    events,
    clock,
    logger,
    publicUrl,
    mailer,
    workers: volunteerWorkers,
  });
  const digest = startDigest({
    config,
    store,
    clock,
    logger,
    publicUrl,
    mailer,
    readHealth: () => readHealth(coordinator, clock.now()),
    workers: volunteerWorkers,
    pause: (worker, by) => coordinator.setPaused(worker, true, by),
  });
  const healthHistory = startHealthHistory({
    store,
    clock,
    logger,
    every: config.fleet.health.sample_every,
    read: () => readHealth(coordinator, clock.now()),
  });
  for (const poller of pollers.values()) poller.start();
  logger.info({ url, database: config.master.database.replace(/:\/\/[^@]*@/, '://***@') }, 'master listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    workerUrl: url.replace(/^http/, 'ws'),
    events,
    coordinator,
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        await Promise.all([...pollers.values()].map((p) => p.stop()));
        // Before the coordinator and the store: a decision run in flight records what it sent.
        await fleet.stop();
        await digest.stop();
        await healthHistory.stop();
        await applications.stop();
        await pools?.stop();
        await schedulers.stop();
        metrics.close();
        await coordinator.stop();
        await debug.close();
        await retention.stop();
        for (const connection of connections) connection.close('master shutting down', CLOSE.shutdown);
        await buildbot?.close();
        await app.close();
        await notifiers.stop();
        await store.close();
        logger.flush?.();
      })();
      return closing;
    },
  };
}
