/**
 * The fleet's vocabulary: a worker's state as stewardship sees it, the
 * alerts about missing workers, and platform coverage. The decisions
 * (`presence.ts`, `missing-workers.ts`, `coverage.ts`) are pure functions
 * over these types and an injected `now`, so weeks of a farm's life can be
 * simulated in a test in seconds.
 */
import type { Millis } from '../domain.js';

/**
 * A worker's state: `building`/`idle` while connected; `paused` when its
 * admin paused it (no builds, no alerts); `offline` while disconnected for
 * less than `missing_after` (or in a maintenance window); `missing` after
 * that; `orphaned` after `orphan_after`.
 */
export type FleetState = 'building' | 'idle' | 'paused' | 'offline' | 'missing' | 'orphaned';

/** What the decisions know of one worker. */
export interface FleetWorker {
  name: string;
  /** Admin addresses ("Name <mail>"): the config's, else what the agent reported. */
  admins: string[];
  dimensions: Record<string, string>;
  connected: boolean;
  building: boolean;
  paused: boolean;
  /** Start of the current disconnection (null while connected or never seen). */
  disconnectedAt: Millis | null;
  /** This worker's `missing_after` (its own, else the fleet's). */
  missingAfter: Millis;
}

/**
 * The kinds of fleet mail: about a missing worker, plus the weekly `digest`
 * (worker `*`, episode = the fire time), telling a `suspect` worker's
 * admins (episode = the suspicion's `since`), telling operators of a
 * pending `application` (worker `application/ID`, episode = its submission,
 * sequence 0 = new, n = the n-th reminder) and telling the volunteer the
 * `decision` (same worker and episode, sequence 0). On-demand pools mail
 * the `budget` alert and a pool's `backoff` after failed starts.
 */
export type AlertKind =
  | 'missing'
  | 'reminder'
  | 'orphaned'
  | 'recovered'
  | 'digest'
  | 'suspect'
  | 'application'
  | 'decision'
  // On-demand pools: `budget` (worker `latent/budget`, episode = the month's start), `backoff` (worker `latent/POOL`, episode = the run's first failed start).
  | 'budget'
  | 'backoff';

/**
 * One mail decided on. `episode` is the disconnection it is about (its
 * start time): the same fact is never sent twice for one episode, so the
 * ledger of sent alerts, keyed by (worker, episode, kind, sequence), makes a
 * restarted master send nothing again.
 */
export interface FleetAlert {
  kind: AlertKind;
  worker: string;
  episode: Millis;
  /** For reminders: 1, 2, 3... (the n-th reminder of the episode); 0 otherwise. */
  sequence: number;
  to: string[];
}

/** An alert already sent (from the store's ledger). */
export interface SentAlert {
  kind: AlertKind;
  worker: string;
  episode: Millis;
  sequence: number;
  to: string[];
  sentAt: Millis;
}

/** A platform's coverage now. */
export interface PlatformCoverage {
  name: string;
  tier: number;
  redundancy: number;
  select: Record<string, string>;
  /** Workers matching the platform, and the live ones (connected or building, not paused). */
  workers: string[];
  live: string[];
  /** Builders whose selector this platform's workers satisfy. */
  builders: string[];
  /** Fewer live workers than `redundancy`. */
  short: boolean;
}
