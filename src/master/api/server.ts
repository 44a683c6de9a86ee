/**
 * The master's HTTP server: the REST API under /api/v1, its OpenAPI
 * document, live streams, metrics, and the WebSocket endpoint workers
 * connect to (whose protocol lives in `workers/`, not here).
 */
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import type { WebSocket } from 'ws';
import { MAX_FRAME_BYTES } from '../../protocol/messages.js';
import { ShepherdError } from '../errors.js';
import type { ChangeSourceControl, MasterControl, SchedulerControl } from './control.js';
import { errorBody, installErrorReplies } from './error-replies.js';
import { OpenApiDocument } from './openapi.js';
import { ApiRouter } from './route.js';
import { registerBuilderRoutes } from './routes/builders.js';
import { registerArtifactRoutes } from './routes/artifacts.js';
import { registerBuildRoutes } from './routes/builds.js';
import { registerChangeRoutes } from './routes/changes.js';
import { registerApplicationRoutes } from './routes/applications.js';
import { registerCoverageRoutes } from './routes/coverage.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerSchedulerRoutes } from './routes/schedulers.js';
import { registerEventRoutes } from './routes/events.js';
import { registerGridRoutes } from './routes/grid.js';
import { registerLogRoutes } from './routes/logs.js';
import { registerMetaRoutes } from './routes/meta.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerOverviewRoutes } from './routes/overview.js';
import { registerRequestRoutes } from './routes/requests.js';
import { registerReproRoutes } from './routes/repro.js';
import { registerWorkerRoutes } from './routes/workers.js';
import { registerTestRoutes } from './routes/tests.js';
import { registerDebugRoutes } from '../debug/debug-routes.js';
import type { DebugBroker } from '../debug/debug-broker.js';
import { shepherdVersion } from './version.js';
import type { ApplicationControl } from '../fleet/applications.js';
import type { LatentControl } from '../latent/pool-service.js';
import { registerLatentRoutes } from './routes/latent.js';
import { findWebRoot, registerWebUi, registerWorkerBundle, uiFallback } from './web-ui.js';

/** What the server needs besides the master itself. */
export interface HttpServerOptions {
  /** A pino-compatible logger, or true/false for Fastify's own. */
  logger: FastifyBaseLogger | boolean;
  /** Where `createMetrics` registered the metrics `GET /metrics` serves. */
  registry: Registry;
  /** Receives every authenticated-or-not worker WebSocket on `/worker`. */
  onWorkerSocket: (socket: WebSocket, request: FastifyRequest) => void;
  /** The change sources (poll now). Absent: none are running. */
  sources?: ChangeSourceControl;
  /** The schedulers (force with parameters, try). Absent: none are configured. */
  schedulers?: SchedulerControl;
  /** Volunteers' applications and registered workers. Absent: applications are refused (403). */
  applications?: ApplicationControl;
  /** The master's public address (`master.public_url`, else where it listens), for links in replies. */
  publicUrl?: () => string;
  /** Where the built web UI is (default: found next to the master, see `findWebRoot`; null: none). */
  webRoot?: string | null;
  /** Debug sessions (shepherd debug). Absent: their audit is readable, opening one is refused. */
  debug?: DebugBroker;
  /** The on-demand pools: instances, cost, why queued requests wait (default: none configured). */
  latent?: LatentControl;
  /** Registers more routes outside the API router (the push webhooks under /hooks). */
  extraRoutes?: (app: FastifyInstance) => Promise<void>;
}

/** Schedulers when none are configured: an empty list, and 404 for forces and tries. */
const NO_SCHEDULERS: SchedulerControl = {
  list: () => [],
  force: async (name) => {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no scheduler named "${name}"`, { details: { scheduler: name } });
  },
  submitTry: async () => {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', 'no try scheduler is configured: add one with `try:` under schedulers');
  },
};

/** Applications when the master runs without the service (bare test servers): refused, listed empty. */
const NO_APPLICATIONS: ApplicationControl = {
  submit: async () => {
    throw new ShepherdError('SHEPHERD_E_FORBIDDEN', 'this master does not take applications');
  },
  list: async () => [],
  get: async (id) => {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no application with id ${id}`);
  },
  approve: async (id) => {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no application with id ${id}`);
  },
  decline: async (id) => {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no application with id ${id}`);
  },
  status: async (id) => {
    throw new ShepherdError('SHEPHERD_E_UNAUTHORIZED', `no application ${id} with that token`);
  },
  retire: async (name) => {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no registered worker named "${name}"`);
  },
  retired: async () => [],
};

/** Builds the HTTP server (not yet listening). */
export async function createHttpServer(control: MasterControl, options: HttpServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(typeof options.logger === 'boolean' ? { logger: options.logger } : { loggerInstance: options.logger }),
    // Event streams and log follows stay open; closing the server must not wait for them.
    forceCloseConnections: true,
    // Two info lines per API call drown the build lifecycle in the master's log;
    // errors are still logged by the error replies.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;
  const webRoot = options.webRoot === undefined ? findWebRoot() : options.webRoot;
  installErrorReplies(app, uiFallback(webRoot));

  await app.register(websocket, { options: { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false } });
  app.route({
    method: 'GET',
    url: '/worker',
    handler: async function refusePlainHttp(_request, reply) {
      const error = new ShepherdError(
        'SHEPHERD_E_WORKER_PROTOCOL',
        '/worker is the WebSocket endpoint for worker agents; start one with `shepherd worker`',
      );
      return reply.code(error.status).send(errorBody(error));
    },
    wsHandler: function acceptWorkerSocket(socket, request) {
      options.onWorkerSocket(socket, request);
    },
  });

  const openapi = new OpenApiDocument({
    title: 'Shepherd',
    version: shepherdVersion(),
    description: 'The build-farm master: builders, builds, logs, workers and build requests.',
  });
  const api = new ApiRouter(
    app,
    { apiToken: control.apiToken, apiTokenEnv: control.config.master.api_token_env },
    openapi,
  );
  openapi.add({
    method: 'GET',
    url: '/worker',
    operationId: 'workerSocket',
    summary: 'WebSocket endpoint for worker agents (the Shepherd worker protocol, src/protocol)',
    tag: 'workers',
    write: false,
    status: 101,
    response: { mediaType: 'application/octet-stream', description: 'Switching to the WebSocket protocol' },
  });
  registerMetaRoutes(api);
  registerBuilderRoutes(api, control, options.latent);
  registerBuildRoutes(api, control);
  registerLogRoutes(api, control);
  registerArtifactRoutes(api, control);
  registerWorkerRoutes(api, control);
  registerRequestRoutes(api, control, options.latent);
  registerLatentRoutes(api, options.latent);
  registerEventRoutes(api, control);
  registerChangeRoutes(api, control, options.sources);
  registerOverviewRoutes(api, control);
  registerGridRoutes(api, control);
  registerCoverageRoutes(api, control);
  registerApplicationRoutes(api, control, options.applications ?? NO_APPLICATIONS, options.publicUrl ?? (() => ''));
  registerHealthRoutes(api, control);
  registerTestRoutes(api, control);
  registerDebugRoutes(app, api, control, options.debug);
  registerReproRoutes(api, control, options.publicUrl);
  const tryLimits = control.config.schedulers.map((s) => s.try?.max_patch ?? 0);
  registerSchedulerRoutes(api, options.schedulers ?? NO_SCHEDULERS, { maxPatchBytes: Math.max(1024 * 1024, ...tryLimits) });
  registerMetricsRoute(api, options.registry);
  await options.extraRoutes?.(app);
  await registerWebUi(app, webRoot);
  registerWorkerBundle(app);
  return app;
}
