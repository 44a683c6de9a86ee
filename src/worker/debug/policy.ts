/**
 * The worker admin's policy for debug sessions (`debug:` in worker.yml) and
 * the one decision it makes. The worker applies it itself, whatever the
 * master asks: without a `debug` section, or with `allow: false`, nobody
 * gets a shell on this machine.
 */

/** What the admin allows, as read from the worker's config. */
export interface DebugPolicy {
  /** Sessions are possible at all. */
  allow: boolean;
  /** Who may open one (as the master names them); absent: anyone the master lets ask. */
  users?: string[];
  /** Hard limit of one session, in ms: the worker kills it then. */
  maxMs: number;
  /** Each session waits for the admin's approval token before anything starts. */
  approval: boolean;
}

/** The policy's answer to one request. */
export type DebugDecision =
  | { ok: true; approval: boolean; maxMs: number }
  | { ok: false; reason: string };

/**
 * Decides whether `user` may open a debug session on worker `worker`. The
 * reasons are shown to the person who asked, so they say who decides.
 */
export function decideDebugSession(policy: DebugPolicy | undefined, user: string, worker: string): DebugDecision {
  if (!policy || !policy.allow) {
    return { ok: false, reason: `the worker's admin does not allow debug sessions on ${worker}` };
  }
  if (policy.users && !policy.users.includes(user)) {
    return { ok: false, reason: `user ${user} is not among those the admin of ${worker} allows to open debug sessions` };
  }
  return { ok: true, approval: policy.approval, maxMs: policy.maxMs };
}
