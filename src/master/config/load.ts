/**
 * Reading the configuration file: YAML → zod → frozen object, refusing any
 * mistake with the file, the path inside it and what was expected, before
 * anything starts.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ShepherdError } from '../errors.js';
import { ConfigFile, type Config } from './schema.js';

/** Formats a zod issue path as `builders[1].steps[0].timeout`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(top level)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_union') return 'expected one of the allowed forms (see docs/configuration.md)';
  return issue.message;
}

/** Validates already-parsed YAML/JSON; returns the frozen config or throws SHEPHERD_E_CONFIG naming every problem. */
export function parseConfig(raw: unknown, file: string, baseDir = dirname(file)): Readonly<Config> {
  const parsed = ConfigFile.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${file}: ${formatPath(issue.path)}: ${describeIssue(issue)}`);
    throw new ShepherdError('SHEPHERD_E_CONFIG', problems.join('\n'), { details: { problems } });
  }
  const config = parsed.data;
  config.master.data_dir = resolveFrom(baseDir, config.master.data_dir);
  if (config.master.database.startsWith('sqlite:')) {
    const path = config.master.database.slice('sqlite:'.length);
    config.master.database = path === ':memory:' ? config.master.database : `sqlite:${resolveFrom(baseDir, path)}`;
  }
  for (const source of config.changes) {
    // A plain relative path (not a URL, not scp-like host:path) is a repository next to the config file.
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(source.git) && !/^[^/]+:/.test(source.git)) source.git = resolveFrom(baseDir, source.git);
  }
  return deepFreeze(config);
}

/** Reads, parses and validates a config file. */
export function loadConfig(file: string): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const problem = `${file}: cannot read: ${(cause as Error).message}`;
    throw new ShepherdError('SHEPHERD_E_CONFIG', problem, { cause, details: { problems: [problem] } });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => `${file}: ${e.message.split('\n')[0]}`);
    throw new ShepherdError('SHEPHERD_E_CONFIG', problems.join('\n'), { details: { problems } });
  }
  return parseConfig(doc.toJS(), file, dirname(resolve(file)));
}

/** Secrets the config names by environment variable, read once at start-up. */
export interface Secrets {
  apiToken: string | null;
  workers: ReadonlyMap<string, string>;
  /** Every other variable the config names (`*_env` of hooks and notify), all present and non-empty. */
  env: Readonly<Record<string, string>>;
}

/** Reads every secret named in the config; a worker whose variable is unset or empty is refused. */
export function readSecrets(config: Readonly<Config>, env: NodeJS.ProcessEnv = process.env): Secrets {
  const workers = new Map<string, string>();
  const problems: string[] = [];
  config.workers.forEach((worker, i) => {
    const value = env[worker.secret_env];
    if (!value) problems.push(`workers[${i}].secret_env: environment variable ${worker.secret_env} is not set`);
    else workers.set(worker.name, value);
  });
  const named: Record<string, string> = {};
  const need = (path: string, name: string | undefined) => {
    if (name === undefined) return;
    const value = env[name];
    if (!value) problems.push(`${path}: environment variable ${name} is not set`);
    else named[name] = value;
  };
  need('hooks.github.secret_env', config.hooks.github?.secret_env);
  need('hooks.gitlab.token_env', config.hooks.gitlab?.token_env);
  need('hooks.gitea.secret_env', config.hooks.gitea?.secret_env);
  need('notify.mail.user_env', config.notify.mail?.user_env);
  need('notify.mail.password_env', config.notify.mail?.password_env);
  config.notify.notifiers.forEach((notifier, i) => {
    need(`notify.notifiers[${i}].webhook.secret_env`, notifier.webhook?.secret_env);
    need(`notify.notifiers[${i}].github_status.token_env`, notifier.github_status?.token_env);
  });
  if (problems.length) {
    throw new ShepherdError('SHEPHERD_E_CONFIG', problems.join('\n'), { details: { problems } });
  }
  const apiToken = config.master.api_token_env ? env[config.master.api_token_env] || null : null;
  return { apiToken, workers, env: named };
}

function resolveFrom(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
