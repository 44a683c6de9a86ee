/**
 * Debug sessions as the master starts them: the broker plus the worker
 * connections it may use. The master hands each agent connection over as it
 * authenticates and when it closes; the newest live connection of a worker
 * is the one a session goes through (a replaced one is never used).
 */
import type { Logger } from 'pino';
import type { DebugWorkerMessage } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/schema.js';
import type { Store } from '../store/store.js';
import type { AgentConnection } from '../workers/agent-connection.js';
import { recipients } from '../fleet/missing-workers.js';
import type { Mailer } from '../notify/mailer.js';
import { approvalMail } from './approval-mail.js';
import { DebugBroker, type AwaitingApproval } from './debug-broker.js';

/** What the master wires in: see the module comment. */
export interface DebugService {
  /** Pass to `createHttpServer` as `debug`. */
  readonly broker: DebugBroker;
  /** Pass to `acceptAgentSocket` as `deps.debug`. */
  onMessage(connection: AgentConnection, message: DebugWorkerMessage): void;
  /** An agent connection authenticated (acceptAgentSocket's register callback). */
  connected(connection: AgentConnection): void;
  /** That connection's socket closed. */
  disconnected(connection: AgentConnection): void;
  /** Ends every session (before the HTTP server closes). */
  close(): Promise<void>;
}

/** Creates the debug service of a master. */
export function startDebugService(deps: {
  config: Readonly<Config>;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Mails a session's approval request to the worker's admins (none: the worker's log and the client say how to approve). */
  mailer?: Mailer | undefined;
  /** The master's public address, known once it listens. */
  publicUrl?: () => string;
  /** A worker's admins, as the workers list shows them. */
  adminsOf?: (worker: string) => Promise<string[]>;
}): DebugService {
  const log = deps.logger.child({ component: 'debug' });
  async function askApproval(session: AwaitingApproval): Promise<void> {
    const to = recipients((await deps.adminsOf?.(session.worker)) ?? []);
    if (!deps.mailer || to.length === 0) {
      log.info({ session: session.session, worker: session.worker }, 'debug session awaits approval; nobody to mail');
      return;
    }
    await deps.mailer.send(approvalMail(session, to, deps.publicUrl?.() ?? ''));
    log.info({ session: session.session, worker: session.worker, to }, 'debug session approval requested by mail');
  }
  const live = new Map<string, AgentConnection>();
  const broker = new DebugBroker({
    store: deps.store,
    config: deps.config,
    clock: deps.clock,
    logger: deps.logger,
    dataDir: deps.config.master.data_dir,
    connectionOf(worker) {
      const connection = live.get(worker);
      return connection && !connection.closed ? connection : undefined;
    },
    onAwaitingApproval(session) {
      askApproval(session).catch((error: unknown) => log.error({ err: error, session: session.session }, 'mailing the debug approval request failed'));
    },
  });
  return {
    broker,
    onMessage: (connection, message) => broker.fromWorker(connection, message),
    connected(connection) {
      live.set(connection.name, connection);
    },
    disconnected(connection) {
      if (live.get(connection.name) === connection) live.delete(connection.name);
      broker.workerDisconnected(connection);
    },
    close: () => broker.close(),
  };
}
