/**
 * Who may write: every call that changes something needs the master's API
 * token as `Authorization: Bearer <token>`. Reads are open.
 */
import { ShepherdError } from '../errors.js';
import { secretsEqual as sameSecret } from '../secrets.js';

/** What the check needs to know about the master. */
export interface TokenSettings {
  /** The token, or null when the master has none (writes are then refused). */
  apiToken: string | null;
  /** The config's `master.api_token_env`, named in the refusal so the operator knows what to set. */
  apiTokenEnv: string | undefined;
}

const HOW_TO_PASS = "pass it as 'Authorization: Bearer <token>' (shepherd CLI: --token or SHEPHERD_API_TOKEN)";

/** Throws SHEPHERD_E_UNAUTHORIZED unless `authorization` carries the master's token. */
export function requireWriteToken(settings: TokenSettings, authorization: string | undefined): void {
  if (settings.apiToken === null) {
    const fix = settings.apiTokenEnv
      ? `set the environment variable ${settings.apiTokenEnv} for the master and restart it`
      : 'set master.api_token_env in the config (e.g. SHEPHERD_API_TOKEN), set that variable for the master and restart it';
    throw new ShepherdError('SHEPHERD_E_UNAUTHORIZED', `writes are disabled: the master has no API token configured; ${fix}`);
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  if (!match) {
    throw new ShepherdError('SHEPHERD_E_UNAUTHORIZED', `this call needs the master's API token: ${HOW_TO_PASS}`);
  }
  if (!sameSecret(match[1]!, settings.apiToken)) {
    throw new ShepherdError('SHEPHERD_E_UNAUTHORIZED', `the API token is not valid: ${HOW_TO_PASS} with the master's token`);
  }
}

/**
 * For a worker's own settings (pause, contact): the master's API token, or
 * that worker's secret, so its admin needs nobody else. Returns who it was.
 */
export function requireTokenOrWorkerSecret(
  settings: TokenSettings,
  authorization: string | undefined,
  isWorkerSecret: (secret: string) => boolean,
): 'operator' | 'admin' {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  if (match && isWorkerSecret(match[1]!)) return 'admin';
  if (match && settings.apiToken !== null && sameSecret(match[1]!, settings.apiToken)) return 'operator';
  throw new ShepherdError(
    'SHEPHERD_E_UNAUTHORIZED',
    "this call needs the worker's own secret or the master's API token as 'Authorization: Bearer <secret>' (shepherd worker pause: --secret-env)",
  );
}
