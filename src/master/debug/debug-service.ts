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
import { DebugBroker } from './debug-broker.js';

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
export function startDebugService(deps: { config: Readonly<Config>; store: Store; clock: Clock; logger: Logger }): DebugService {
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
