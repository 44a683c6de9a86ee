/**
 * Who may connect as which worker. The config file's workers have secrets
 * from the master's environment; workers created by approving a volunteer's
 * application have a secret the volunteer collected once, of which only the
 * hash is stored; on-demand instances connect first with a one-time token
 * (single use, expiring) and get a session secret for their reconnects. All
 * are kept here as hashes and checked in constant time.
 */
import { hashSecret, matchesHash, newSecret } from '../secrets.js';

/**
 * Why a worker may not connect, or `ok`. `uncollected`: approved, but the
 * volunteer has not collected its secret yet. `spent`: an on-demand
 * instance's one-time token, already used or expired. `buildbot`: a
 * Buildbot worker (`protocol: buildbot`) trying the Shepherd agent's path.
 */
export type WorkerVerdict = 'ok' | 'unknown' | 'wrong' | 'uncollected' | 'spent' | 'buildbot';

/** Checks a worker's name and secret without changing anything (API calls signed with a worker's secret). */
export type VerifyWorker = (name: string, secret: string) => WorkerVerdict;

/** What a connecting worker's hello earns: with a one-time token, the session secret for its reconnects. */
export interface Authentication {
  verdict: WorkerVerdict;
  sessionSecret?: string;
}

/** Checks a connecting worker's name and secret; spends a one-time token. */
export type AuthenticateWorker = (name: string, secret: string) => Authentication;

/** The refusal a worker is sent, naming what to fix. */
export function refusalOf(verdict: Exclude<WorkerVerdict, 'ok'>, name: string): string {
  switch (verdict) {
    case 'unknown':
      return `no worker named "${name}" is configured on this master`;
    case 'wrong':
      return `wrong secret for worker "${name}"`;
    case 'uncollected':
      return `worker "${name}" has no secret yet: its volunteer collects it with \`shepherd join --status\` (shown once)`;
    case 'spent':
      return `the one-time token of on-demand instance "${name}" was already used or has expired`;
    case 'buildbot':
      return `worker "${name}" is configured with protocol: buildbot: it connects to master.buildbot_listen, not as a Shepherd agent`;
  }
}

// Compared against for unknown names, so every refusal takes the same time.
const DUMMY_HASH = hashSecret('\0no such worker');

/** An on-demand instance's credentials: its token until spent, then its session secret. */
export interface TokenCredential {
  tokenHash: string | null;
  expiresAt: number;
  sessionHash: string | null;
  /** Told the session secret's hash when the token is spent (the caller records it). */
  onSpent?: (sessionHash: string) => void;
}

type Entry = { kind: 'secret'; hash: string | null } | ({ kind: 'token' } & TokenCredential);

/** Worker name → secret hash (null: approved, secret not yet collected), or an instance's token. */
export class WorkerCredentials {
  readonly #entries = new Map<string, Entry>();

  /** From plain secrets (the config's, read from the environment). */
  static fromSecrets(secrets: ReadonlyMap<string, string>): WorkerCredentials {
    const credentials = new WorkerCredentials();
    for (const [name, secret] of secrets) credentials.set(name, hashSecret(secret));
    return credentials;
  }

  set(name: string, hash: string | null): void {
    this.#entries.set(name, { kind: 'secret', hash });
  }

  /** An on-demand instance: its token (until `expiresAt`), or the session secret of an instance adopted after a restart. */
  setToken(name: string, credential: TokenCredential): void {
    this.#entries.set(name, { kind: 'token', ...credential });
  }

  delete(name: string): void {
    this.#entries.delete(name);
  }

  verify(name: string, secret: string): WorkerVerdict {
    const entry = this.#entries.get(name);
    if (entry?.kind === 'token') {
      // Only the session secret counts here: a token is for connecting, once.
      return matchesHash(secret, entry.sessionHash ?? DUMMY_HASH) && entry.sessionHash !== null ? 'ok' : 'wrong';
    }
    const hash = entry?.hash;
    const matches = matchesHash(secret, hash ?? DUMMY_HASH);
    if (entry === undefined) return 'unknown';
    if (hash === null) return 'uncollected';
    return matches ? 'ok' : 'wrong';
  }

  /**
   * A connecting worker's check. An instance's one-time token is spent here:
   * it is good once, before `expiresAt`, and the answer carries the session
   * secret the instance reconnects with (only its hash is kept).
   */
  authenticate(name: string, secret: string, now: number): Authentication {
    const entry = this.#entries.get(name);
    if (entry?.kind !== 'token') return { verdict: this.verify(name, secret) };
    const session = entry.sessionHash !== null && matchesHash(secret, entry.sessionHash);
    const token = matchesHash(secret, entry.tokenHash ?? DUMMY_HASH) && entry.tokenHash !== null;
    if (session) return { verdict: 'ok' };
    if (!token) return { verdict: entry.tokenHash === null ? 'spent' : 'wrong' };
    if (now >= entry.expiresAt) {
      entry.tokenHash = null;
      return { verdict: 'spent' };
    }
    const sessionSecret = newSecret();
    entry.tokenHash = null;
    entry.sessionHash = hashSecret(sessionSecret);
    entry.onSpent?.(entry.sessionHash);
    return { verdict: 'ok', sessionSecret };
  }
}
