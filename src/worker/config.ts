/**
 * The worker's own configuration: a small YAML file a volunteer writes once
 * (`shepherd-worker --config worker.yml`), or the same settings as flags.
 * Flags override the file. Everything is checked here, once, and a mistake
 * names the file or flag, the setting and what is wrong.
 *
 *     master: ws://build.example.org:8010
 *     name: ada-linux-arm
 *     secret_env: SHEPHERD_WORKER_SECRET
 *     dir: ./work            # relative to this file
 *     admin: Ada <ada@example.org>
 *     dimensions: { gpu: none }
 *     maintenance:           # no missing-worker mail while a window is open
 *       - { cron: "0 2 * * 0", duration: 3h }   # Sundays 02:00-05:00 UTC
 *     debug: { allow: true, users: [ada], max: 1h, approval: false }
 *     keep: { max_builds: 2, max_size: 5GB }   # failed builds' trees; false: none
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { KEEP_DEFAULTS } from './kept-trees.js';
import { workerEndpoint } from './master-url.js';
import type { AgentOptions } from './options.js';

/** The durations a maintenance window takes: a number and a unit (s, m, h, d, w). */
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

function durationMs(text: string): number {
  const [, amount, unit] = DURATION_RE.exec(text)!;
  return Math.round(Number(amount) * UNIT_MS[unit!]!);
}

/** Sizes of kept trees: a number and a binary unit (B, KB, MB, GB, TB), as in the master's config. */
const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)$/i;
const UNIT_BYTES: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };

function sizeBytes(text: string): number {
  const [, amount, unit] = SIZE_RE.exec(text)!;
  return Math.round(Number(amount) * UNIT_BYTES[unit!.toUpperCase()]!);
}

/** The schema of the worker's YAML file; every key may instead come from a flag. */
export const WorkerConfigFile = z.strictObject({
  master: z.string().min(1).optional().describe('The master address, ws://HOST:PORT.'),
  name: z.string().min(1).max(200).optional().describe("This worker's name, as listed in the master's config."),
  secret_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name')
    .optional()
    .describe('Environment variable holding the secret (never the secret itself).'),
  dir: z.string().min(1).optional().describe('Base directory for builds and agent state; relative to this file.'),
  admin: z.string().min(1).max(500).optional().describe('Who looks after this worker, "Name <mail>".'),
  dimensions: z
    .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .optional()
    .describe('Extra dimensions, merged over the detected os and arch.'),
  maintenance: z
    .array(
      z.strictObject({
        cron: z
          .string()
          .regex(/^\S+(\s+\S+){4}$/, { message: 'expected a five-field cron expression, in UTC ("0 2 * * 0": Sundays at 02:00)' }),
        duration: z
          .string()
          .regex(DURATION_RE, { message: 'expected a duration like "90m", "3h" or "1d"' })
          .transform(durationMs),
      }),
    )
    .max(50)
    .optional()
    .describe("Maintenance windows, reported to the master: while one is open this worker raises no missing-worker alert. The master checks each cron and ignores (and logs) one it cannot read."),
  debug: z
    .strictObject({
      allow: z.boolean().describe('Whether debug sessions may be opened on this worker at all.'),
      users: z
        .array(z.string().min(1).max(200))
        .max(1000)
        .optional()
        .describe('Who may open one (user names as the master passes them); absent: anyone the master lets ask.'),
      max: z
        .string()
        .regex(DURATION_RE, { message: 'expected a duration like "30m" or "1h"' })
        .transform(durationMs)
        .default(3_600_000)
        .describe('Hard time limit of one session ("1h"): the worker ends it then.'),
      approval: z.boolean().default(false).describe("Each session waits for the admin's approval token (`shepherd approve`)."),
    })
    .optional()
    .describe('Interactive debug sessions (`shepherd debug BUILD`). Without this section they are refused.'),
  keep: z
    .union([
      z.literal(false),
      z.strictObject({
        max_builds: z.number().int().min(0).max(1000).default(KEEP_DEFAULTS.maxBuilds).describe('Failed trees kept at most; the oldest builds\' go first (0: none).'),
        max_size: z
          .string()
          .regex(SIZE_RE, { message: 'expected a size like "500MB" or "5GB"' })
          .transform(sizeBytes)
          .default(KEEP_DEFAULTS.maxBytes)
          .describe('All kept trees together ("5GB"); a tree bigger than this alone is not kept.'),
      }),
    ])
    .optional()
    .describe("Failed builds' trees kept for debug sessions, for builders with `keep_workdir_on_failure` (default: 1 tree, 2GB; false: none)."),
});
/** A parsed worker config file. */
export type WorkerConfigFile = z.infer<typeof WorkerConfigFile>;

/** Command-line settings; each overrides the same key of the config file. */
export interface WorkerFlags {
  config?: string;
  master?: string;
  name?: string;
  secretEnv?: string;
  dir?: string;
  admin?: string;
}

/** A bad worker configuration; the message has one line per problem. Code matches the master's catalogue. */
export class WorkerConfigError extends Error {
  override name = 'WorkerConfigError';
  readonly code = 'SHEPHERD_E_CONFIG';
  readonly problems: string[];

  constructor(problems: string[], options: { cause?: unknown } = {}) {
    super(problems.join('\n'), options);
    this.problems = problems;
  }
}

const FLAG_NAMES = {
  master: '--master',
  name: '--name',
  secret_env: '--secret-env',
  dir: '--dir',
  admin: '--admin',
} as const;
type Key = keyof typeof FLAG_NAMES;

/**
 * Builds the agent's options from flags and, with `flags.config`, the YAML
 * file; reads the secret from `env`. Throws WorkerConfigError naming every problem.
 */
export function resolveWorkerOptions(flags: WorkerFlags, env: NodeJS.ProcessEnv = process.env): AgentOptions {
  const file = flags.config ? readConfigFile(flags.config) : {};
  const fromFlags: Partial<Record<Key, string | undefined>> = {
    master: flags.master,
    name: flags.name,
    secret_env: flags.secretEnv,
    dir: flags.dir,
    admin: flags.admin,
  };
  const problems: string[] = [];

  /** The value of a setting and where it came from, for messages. */
  function setting(key: Key): { value: string; where: string } | undefined {
    const flag = fromFlags[key];
    if (flag !== undefined && flag !== '') return { value: flag, where: FLAG_NAMES[key] };
    const value = file[key];
    if (value !== undefined) return { value, where: `${flags.config}: ${key}` };
    return undefined;
  }
  function required(key: Key, example: string): { value: string; where: string } | undefined {
    const found = setting(key);
    if (!found) {
      const inFile = flags.config ? ` or set ${key} in ${flags.config}` : ' (or use --config FILE)';
      problems.push(`missing ${key}: pass ${FLAG_NAMES[key]} ${example}${inFile}`);
    }
    return found;
  }

  const master = required('master', 'ws://HOST:PORT');
  if (master) {
    try {
      workerEndpoint(master.value);
    } catch (error) {
      problems.push(`${master.where}: ${(error as Error).message}`);
    }
  }

  const name = required('name', 'NAME');
  if (name && name.value.length > 200) problems.push(`${name.where}: longer than 200 characters`);

  const secretEnv = required('secret_env', 'VAR');
  let secret = '';
  if (secretEnv) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(secretEnv.value)) {
      problems.push(`${secretEnv.where}: "${secretEnv.value}" is not an environment variable name (give the variable's name, not the secret)`);
    } else {
      secret = env[secretEnv.value] ?? '';
      if (!secret) problems.push(`${secretEnv.where}: environment variable ${secretEnv.value} is not set`);
      else if (secret.length > 1000) problems.push(`${secretEnv.where}: the secret in ${secretEnv.value} is longer than 1000 characters`);
    }
  }

  const dir = required('dir', 'DIR');
  const admin = setting('admin');

  if (problems.length > 0 || !master || !name || !dir) throw new WorkerConfigError(problems);
  // A relative dir is relative to where it was written: the config file's
  // directory, or the current directory for a flag.
  const base = dir.where === FLAG_NAMES.dir || !flags.config ? process.cwd() : dirname(resolve(flags.config));
  return {
    master: master.value,
    name: name.value,
    secret,
    dir: resolve(base, dir.value),
    ...(admin ? { admin: admin.value } : {}),
    ...(file.dimensions ? { dimensions: file.dimensions } : {}),
    ...(file.maintenance ? { maintenance: file.maintenance.map((w) => ({ cron: w.cron, durationMs: w.duration })) } : {}),
    ...(file.debug
      ? { debug: { allow: file.debug.allow, ...(file.debug.users ? { users: file.debug.users } : {}), maxMs: file.debug.max, approval: file.debug.approval } }
      : {}),
    ...(file.keep !== undefined ? { keep: file.keep === false ? false : { maxBuilds: file.keep.max_builds, maxBytes: file.keep.max_size } } : {}),
  };
}

function readConfigFile(path: string): WorkerConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new WorkerConfigError([`${path}: cannot read: ${(cause as Error).message}`], { cause });
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new WorkerConfigError(doc.errors.map((e) => `${path}: ${e.message.split('\n')[0]}`));
  }
  const parsed = WorkerConfigFile.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw new WorkerConfigError(parsed.error.issues.map((issue) => `${path}: ${formatPath(issue.path)}: ${describeIssue(issue)}`));
  }
  return parsed.data;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : out ? `.${String(key)}` : String(key);
  return out || '(top level)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  return issue.message;
}
