/**
 * The one small interface every latent-worker provider implements (local
 * processes, the operator's scripts, EC2, Kubernetes): start an instance,
 * stop it, ask whether it runs, and list the ones this master started. The
 * master's pool logic depends on this interface only, never on a provider's
 * own types, so each provider is tested alone against real processes or a
 * local server and the pool logic against a fake.
 *
 * Glossary:
 * - pool: a named set of latent workers with the same provider and dimensions.
 * - instance: one machine or process a provider started for a pool; it runs
 *   a worker agent that connects to the master as the worker `name`.
 * - instance id: the provider's own handle (a pid directory, a cloud instance
 *   id, a pod name); opaque to the master, stable across master restarts.
 * - tag: `shepherd-master=ID`, written on every instance a master starts, so
 *   after a restart it finds its own instances (and only those) again.
 */

/** What the master asks a provider to start. */
export interface InstanceSpec {
  /** The pool the instance belongs to. */
  pool: string;
  /** The worker name the instance's agent connects as (unique among connected workers). */
  name: string;
  /** The master's worker address, `ws://HOST:PORT`. */
  master: string;
  /**
   * The one-time token the agent connects with. Made by the caller; a
   * provider only hands it to the instance (never logs or stores it).
   */
  token: string;
  /** The master's tag, `shepherd-master=ID` (see masterTag). */
  tag: string;
  /** The pool's dimensions, for providers that pick a machine type or pass them to the agent. */
  dimensions: Readonly<Record<string, string>>;
}

/** An instance a provider started. */
export interface StartedInstance {
  /** The provider's handle for stop and status. */
  id: string;
}

/** An instance found by `list()`: tagged as this master's. */
export interface ListedInstance {
  id: string;
  /** The worker name, when the provider recorded it. */
  name?: string;
  /** The pool, when the provider recorded it. */
  pool?: string;
  /** Epoch milliseconds, when the provider knows them (for the cost of adopted instances). */
  startedAt?: number;
}

/**
 * What a provider knows of an instance: `unknown` is neither running nor a
 * known stopped instance (never started, or its record is gone).
 */
export type InstanceStatus = 'running' | 'stopped' | 'unknown';

/** The statuses, for parsing what scripts print. */
export const INSTANCE_STATUSES: readonly InstanceStatus[] = ['running', 'stopped', 'unknown'];

/** Starts, stops, probes and lists latent-worker instances. */
export interface LatentProvider {
  /** `local`, `command`, ...: for messages and metrics. */
  readonly kind: string;
  /** Starts an instance; resolves once the provider accepted it (not once its agent connected). */
  start(spec: InstanceSpec): Promise<StartedInstance>;
  /** Stops the instance; stopping one that is already gone is not an error. */
  stop(id: string): Promise<void>;
  status(id: string): Promise<InstanceStatus>;
  /** The instances tagged as this master's and still running, for reconciliation after a restart. */
  list(): Promise<ListedInstance[]>;
}

/**
 * A provider call that failed. The master's error catalogue has no code for
 * latent providers yet, so this is a plain Error with the provider's kind and
 * the operation, and the original failure as `cause`.
 */
export class LatentProviderError extends Error {
  override name = 'LatentProviderError';

  constructor(
    readonly provider: string,
    readonly operation: 'start' | 'stop' | 'status' | 'list',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${provider} provider: ${operation}: ${message}`, options);
  }
}

/** The tag a master writes on its instances. */
export function masterTag(masterId: string): string {
  return `shepherd-master=${masterId}`;
}

/**
 * The environment an instance's agent (or the operator's start script) gets.
 * The token goes in SHEPHERD_WORKER_TOKEN and, because today's agent only
 * knows long-lived secrets, in SHEPHERD_WORKER_SECRET as well.
 */
export function instanceEnv(spec: InstanceSpec): Record<string, string> {
  return {
    SHEPHERD_WORKER_TOKEN: spec.token,
    SHEPHERD_WORKER_SECRET: spec.token,
    SHEPHERD_MASTER: spec.master,
    SHEPHERD_POOL: spec.pool,
    SHEPHERD_INSTANCE: spec.name,
    SHEPHERD_TAG: spec.tag,
    SHEPHERD_DIMENSIONS: JSON.stringify(spec.dimensions),
  };
}

/**
 * Why a spec cannot be started, or null. Pool and instance names become
 * directory names, labels and environment values, so they are kept to a
 * portable alphabet; the message names the field.
 */
export function specProblem(spec: InstanceSpec, tag: string): string | null {
  for (const field of ['pool', 'name'] as const) {
    const value = spec[field];
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(value)) {
      return `spec.${field} "${value}" must be 1-200 letters, digits, ".", "_" or "-", starting with a letter or digit`;
    }
  }
  if (!/^wss?:\/\/\S+$/.test(spec.master)) return `spec.master "${spec.master}" must be a ws:// or wss:// address`;
  if (!spec.token) return 'spec.token is empty';
  // list() finds only instances carrying the provider's own tag: one started
  // under another tag would never be found again, so it would leak.
  if (spec.tag !== tag) return `spec.tag "${spec.tag}" is not this provider's tag "${tag}"`;
  return null;
}

/**
 * Where an instance fetches the worker bundle (ec2, kubernetes): the master's HTTP address
 * (ws→http, wss→https) at `/worker/shepherd-worker.mjs`. The agent dials the
 * master's `/worker` path, so a master address written with that path (or a
 * trailing slash) still gives the bundle beside it.
 */
export function workerBundleUrl(master: string): string {
  const url = new URL(master);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  url.pathname = `${url.pathname.replace(/\/+$/, '').replace(/\/worker$/, '')}/worker/shepherd-worker.mjs`;
  url.search = '';
  url.hash = '';
  return url.toString();
}
