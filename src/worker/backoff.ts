/**
 * Reconnect delays: exponential backoff with full jitter, so a fleet of
 * workers that lost the master at the same moment does not reconnect in step.
 */

/** The shape of one backoff curve. */
export interface BackoffPolicy {
  /** Upper bound of the first delay. */
  initialMs: number;
  /** The upper bound never grows past this. */
  maxMs: number;
}

/** After a lost connection or a failed attempt: 0.5 s doubling to 30 s. */
export const CONNECT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };

/**
 * After the master refused us (wrong secret, unknown name, protocol mismatch):
 * retrying fast cannot help, but a volunteer may fix the master's config, so
 * keep trying slowly rather than giving up.
 */
export const REFUSED_BACKOFF: BackoffPolicy = { initialMs: 30_000, maxMs: 10 * 60_000 };

/**
 * The delay before reconnect attempt number `attempt` (0 for the first):
 * uniformly random between 0 and min(maxMs, initialMs · 2^attempt).
 * `random` returns a number in [0, 1), like Math.random.
 */
export function nextDelay(attempt: number, random: () => number, policy: BackoffPolicy = CONNECT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempt));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(r * ceiling);
}
