/**
 * Everything the worker agent runs with: what `resolveWorkerOptions` builds
 * from flags and the worker's config file, plus tuning knobs with defaults
 * (tests shrink them; operators normally never see them).
 */
import { CONNECT_BACKOFF, REFUSED_BACKOFF, type BackoffPolicy } from './backoff.js';
import type { Clock } from './clock.js';
import type { DebugPolicy } from './debug/policy.js';
import type { KeepPolicy } from './kept-trees.js';

/** The agent's options. Only `master`, `name`, `secret` and `dir` are required. */
export interface AgentOptions {
  /** The master's address, `ws://HOST:PORT`; `/worker` is appended when it has no path. */
  master: string;
  /** This worker's name, as in the master's `workers` list. */
  name: string;
  /** The secret itself (read from the variable named by `secret_env`). */
  secret: string;
  /** Base directory: builders' directories and the agent's state (`.shepherd/`) live under it. */
  dir: string;
  /** Admin contact shown on the master, "Name <mail>". */
  admin?: string;
  /** Extra dimensions, merged over the detected `os` and `arch`. */
  dimensions?: Record<string, string>;
  /** Maintenance windows (cron in UTC, length) reported to the master: no missing-worker alert while one is open. */
  maintenance?: { cron: string; durationMs: number }[];
  /** Debug sessions: what this worker's admin allows (absent: none). */
  debug?: DebugPolicy;
  /** Failed builds' trees kept for debug sessions: the admin's caps, or false for none (absent: `KEEP_DEFAULTS`). */
  keep?: KeepPolicy | false;
  /** Time between SIGTERM and SIGKILL when the agent ends a step. */
  killGraceMs?: number;
  /** Unacknowledged output kept in memory across all steps before spilling to disk. */
  spoolMemoryBytes?: number;
  /** Reconnect delays after a lost connection. */
  backoff?: BackoffPolicy;
  /** Reconnect delays after the master refused us. */
  refusedBackoff?: BackoffPolicy;
  /** Time source for timeouts, heartbeats and reconnect delays. */
  clock?: Clock;
  /** Random source for backoff jitter, in [0, 1). */
  random?: () => number;
  /** The environment steps inherit (their own `env` is merged over it). */
  env?: NodeJS.ProcessEnv;
}

/** Defaults of the tuning options. */
export const AGENT_DEFAULTS = {
  killGraceMs: 5000,
  spoolMemoryBytes: 16 * 1024 * 1024,
  backoff: CONNECT_BACKOFF,
  refusedBackoff: REFUSED_BACKOFF,
} satisfies Partial<AgentOptions>;
