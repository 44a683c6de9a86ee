/**
 * Who may connect as which worker. The config file's workers have secrets
 * from the master's environment; workers created by approving a volunteer's
 * application have a secret the volunteer collected once, of which only the
 * hash is stored. Both are kept here as hashes and checked in constant time.
 */
import { hashSecret, matchesHash } from '../secrets.js';

/** Why a worker may not connect, or `ok`. `uncollected`: approved, but the volunteer has not collected its secret yet. */
export type WorkerVerdict = 'ok' | 'unknown' | 'wrong' | 'uncollected';

/** Checks a worker's name and secret. */
export type VerifyWorker = (name: string, secret: string) => WorkerVerdict;

/** The refusal a worker is sent, naming what to fix. */
export function refusalOf(verdict: Exclude<WorkerVerdict, 'ok'>, name: string): string {
  switch (verdict) {
    case 'unknown':
      return `no worker named "${name}" is configured on this master`;
    case 'wrong':
      return `wrong secret for worker "${name}"`;
    case 'uncollected':
      return `worker "${name}" has no secret yet: its volunteer collects it with \`shepherd join --status\` (shown once)`;
  }
}

// Compared against for unknown names, so every refusal takes the same time.
const DUMMY_HASH = hashSecret('\0no such worker');

/** Worker name → secret hash (null: approved, secret not yet collected). */
export class WorkerCredentials {
  readonly #hashes = new Map<string, string | null>();

  /** From plain secrets (the config's, read from the environment). */
  static fromSecrets(secrets: ReadonlyMap<string, string>): WorkerCredentials {
    const credentials = new WorkerCredentials();
    for (const [name, secret] of secrets) credentials.set(name, hashSecret(secret));
    return credentials;
  }

  set(name: string, hash: string | null): void {
    this.#hashes.set(name, hash);
  }

  delete(name: string): void {
    this.#hashes.delete(name);
  }

  verify(name: string, secret: string): WorkerVerdict {
    const hash = this.#hashes.get(name);
    const matches = matchesHash(secret, hash ?? DUMMY_HASH);
    if (hash === undefined) return 'unknown';
    if (hash === null) return 'uncollected';
    return matches ? 'ok' : 'wrong';
  }
}
