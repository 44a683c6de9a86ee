/**
 * What the HTTP API may do to the master: a narrow facade over the build
 * coordinator, the store and the event map, so the API layer never reaches
 * into the coordinator's internals.
 */
import type { Config } from '../config/schema.js';
import type { BuildRequest, Millis, Properties } from '../domain.js';
import type { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';

/** A worker's live state, as the API shows it. */
export interface WorkerView {
  name: string;
  dimensions: Record<string, string>;
  maxBuilds: number;
  /** `building`: connected with at least one build; `idle`: connected; `offline`: not connected. */
  state: 'building' | 'idle' | 'offline';
  connected: boolean;
  /** Ids of the builds running on it now. */
  builds: number[];
  /** What the agent reported last (os, arch, hostname, admin, agent_version...). */
  info: Record<string, unknown> | null;
  protocol: 'shepherd' | 'buildbot' | null;
  connectedAt: Millis | null;
  lastSeen: Millis | null;
}

/** Input for forcing a build. */
export interface ForceInput {
  builder: string;
  properties: Properties;
  reason: string;
  submittedBy: string | null;
  priority?: number;
}

/** The master as the API sees it. */
export interface MasterControl {
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly events: MasterEventBus;
  /** The API token, or null when writes are disabled. */
  readonly apiToken: string | null;
  /** Queues a build request; throws SHEPHERD_E_NOT_FOUND for an unknown builder. */
  force(input: ForceInput): Promise<BuildRequest>;
  /**
   * Cancels a running build (kills its running step; always_run steps still
   * run) or throws SHEPHERD_E_NOT_FOUND / SHEPHERD_E_CONFLICT (already finished).
   */
  cancelBuild(buildId: number, reason: string): Promise<void>;
  /** Cancels a queued request; SHEPHERD_E_CONFLICT when it is no longer queued. */
  cancelRequest(requestId: number): Promise<BuildRequest>;
  /** Every configured worker with its live state. */
  workers(): Promise<WorkerView[]>;
  /** A step log's current length in bytes, including output received but not yet stored. */
  logLength(stepId: number): Promise<number>;
  /** The bytes of a step's log in [start, end), stored or still pending in memory. */
  readLog(stepId: number, start: number, end?: number): AsyncIterable<Buffer>;
}
