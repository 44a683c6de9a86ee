/**
 * The listener Buildbot workers connect to (`master.buildbot_listen`):
 * a WebSocket server on its own port, as a worker's `buildbot.tac` names a
 * host and port and connects to `ws://HOST:PORT/`. The worker's name and
 * password come as HTTP Basic authentication on the upgrade request; a
 * worker that is unknown, not configured with `protocol: buildbot`, or has
 * the wrong password is refused there with 401. Once upgraded, the master
 * asks for the worker's info, sends its settings, and attaches it to the
 * coordinator like any other worker.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Clock } from '../clock.js';
import type { UploadSink } from '../files/upload-sink.js';
import type { WorkerSessionHandler } from '../workers/connected-worker.js';
import { refusalOf, type VerifyWorker } from '../workers/credentials.js';
import type { BuildbotMessage } from './codec.js';
import { BuildbotConnection } from './connection.js';
import { RemoteCommands } from './remote-commands.js';
import { BUILDBOT_CLOSE, MsgpackSession } from './session.js';
import { WORKER_SETTINGS } from './step-plan.js';
import { isWindowsWorker, workerBasedir, workerInfoFrom } from './worker-info.js';

/** Largest frame a worker may send: an output update holds at most one (32 MiB) line plus its buffer. */
export const MAX_BUILDBOT_FRAME_BYTES = 64 * 1024 * 1024;

/** What the listener needs. */
export interface BuildbotListenerOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  /** Checks a worker's name and password (the coordinator's; constant time whatever the answer). */
  verify: VerifyWorker;
  /** Whether the config says this worker speaks Buildbot's protocol (`protocol: buildbot`). */
  isBuildbotWorker(name: string): boolean;
  handler: WorkerSessionHandler;
  clock: Clock;
  logger: Logger;
  /** How often the master sends `keepalive` (default 30 s); a worker that misses two is disconnected. */
  keepaliveMs?: number;
  /** Where collected files go (absent: steps' files are not collected). */
  sink?: Pick<UploadSink, 'receiver' | 'settled'>;
  /** Seconds between SIGTERM and SIGKILL when the worker ends a command (default 10). */
  sigtermSeconds?: number;
  /** An authenticated connection is attached (the master keeps them for shutdown, tests wait on it). */
  onConnection?(connection: BuildbotConnection): void;
}

/** A started listener. */
export interface BuildbotListener {
  /** The port it listens on (the one asked for, or the one chosen for 0). */
  readonly port: number;
  /** Stops accepting, closes every connection and the server. */
  close(): Promise<void>;
}

/** `name:password` from an `Authorization: Basic ...` header; null when there is none or it is malformed. */
export function basicCredentials(header: string | undefined): { name: string; password: string } | null {
  const match = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!match) return null;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return null;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Starts listening; resolves once the port is bound. */
export async function startBuildbotListener(options: BuildbotListenerOptions): Promise<BuildbotListener> {
  const { logger, clock } = options;
  const log = logger.child({ component: 'buildbot-listener' });
  const sessions = new Set<MsgpackSession>();

  const server = new WebSocketServer({
    host: options.host,
    port: options.port,
    perMessageDeflate: false,
    maxPayload: MAX_BUILDBOT_FRAME_BYTES,
    verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) => {
      const remote = info.req.socket.remoteAddress ?? 'unknown';
      const credentials = basicCredentials(info.req.headers.authorization);
      if (!credentials) {
        log.warn({ remote }, 'refused buildbot worker: no Basic authentication on the upgrade request');
        done(false, 401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="shepherd"' });
        return;
      }
      // Verified before the protocol check, so a refusal takes as long whatever the reason.
      const verdict = options.verify(credentials.name, credentials.password);
      const reason = verdict !== 'ok' ? refusalOf(verdict, credentials.name)
        : !options.isBuildbotWorker(credentials.name) ? `worker "${credentials.name}" is not configured with protocol: buildbot`
        : null;
      if (reason) {
        log.warn({ worker: credentials.name, remote }, `refused buildbot worker: ${reason}`);
        done(false, 401, 'Unauthorized', { 'WWW-Authenticate': 'Basic realm="shepherd"' });
        return;
      }
      done(true);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  server.on('error', (error) => log.error({ err: error }, 'buildbot listener error'));

  server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    // Checked by verifyClient: present and valid.
    const { name } = basicCredentials(request.headers.authorization)!;
    const remote = request.socket.remoteAddress ?? 'unknown';
    void accept(socket, name, remote);
  });

  async function accept(socket: WebSocket, name: string, remote: string): Promise<void> {
    let connection: BuildbotConnection | null = null;
    let commands: RemoteCommands | null = null;
    let attaching: Promise<unknown> = Promise.resolve();
    const session: MsgpackSession = new MsgpackSession(socket, {
      clock,
      logger: log.child({ worker: name, remote }),
      keepaliveMs: options.keepaliveMs ?? 30_000,
      onRequest: (message: BuildbotMessage) => {
        if (!commands) throw new Error(`${message.op} before the master started any command`);
        return commands.dispatch(message);
      },
      onClose: (reason) => {
        sessions.delete(session);
        if (!connection) return;
        connection.ended(reason);
        const ended = connection;
        const detach = () => options.handler.detach(ended, reason);
        void attaching.then(detach, detach);
      },
    });
    sessions.add(session);
    try {
      const answer = await session.request('get_worker_info');
      if (answer === null || typeof answer !== 'object') throw new Error('get_worker_info: the answer is not a map');
      const raw = answer as Record<string, unknown>;
      await session.request('set_worker_settings', { args: { ...WORKER_SETTINGS } });
      commands = new RemoteCommands(session);
      connection = new BuildbotConnection(
        name,
        workerInfoFrom(raw),
        remote,
        session,
        commands,
        { basedir: workerBasedir(raw), windows: isWindowsWorker(raw) },
        { handler: options.handler, logger: log, clock, ...(options.sink ? { sink: options.sink } : {}), ...(options.sigtermSeconds !== undefined ? { sigtermSeconds: options.sigtermSeconds } : {}) },
        { pause: () => socket.pause(), resume: () => socket.resume() },
      );
      if (session.closed) return;
      attaching = options.handler.attach(connection, []);
      await attaching;
      options.onConnection?.(connection);
      log.info({ worker: name, remote, version: connection.info.agent_version }, 'buildbot worker connected');
    } catch (error) {
      if (session.closed) return;
      log.warn({ worker: name, remote, reason: (error as Error).message }, 'closing buildbot worker connection: setting it up failed');
      session.close(`setting up the connection failed: ${(error as Error).message}`, BUILDBOT_CLOSE.protocol);
    }
  }

  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      for (const session of sessions) session.close('the master is stopping', 1001);
      for (const client of server.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
