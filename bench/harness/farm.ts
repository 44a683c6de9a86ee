/**
 * A throwaway farm for one workload: a temp directory, a master process on
 * SQLite started from the built CLI, worker processes from the one-file
 * bundle, and a small client of the master's REST API.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { z } from 'zod';
import type { BuildDetailJson, RequestJson, WorkerJson } from '../../src/master/api/schemas.js';
import type { ConfigFile } from '../../src/master/config/schema.js';
import { GroupProcess, removeDir, removeOnExit } from './processes.js';

/** The repository root (this file runs as dist/bench/harness/farm.js). */
export const ROOT = resolve(import.meta.dirname, '../../..');
/** The built `shepherd` CLI. */
export const CLI = join(ROOT, 'dist/src/cli/main.js');
/** The one-file worker agent bundle. */
export const WORKER_BUNDLE = join(ROOT, 'dist/shepherd-worker.mjs');

/** The configuration file as written (before defaults). */
export type ConfigInput = z.input<typeof ConfigFile>;

/** A fresh temp directory, removed when the benchmark exits if the workload does not remove it first. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `shepherd-bench-${prefix}-`));
  removeOnExit(dir);
  return dir;
}

/** Removes a temp dir made by `tempDir`. */
export function removeTempDir(dir: string): void {
  removeDir(dir);
}

/** A random secret. */
export function secret(): string {
  return randomBytes(12).toString('base64url');
}

/** How every master of the benchmark is started. */
export interface MasterLaunch {
  /** Node's own flags, e.g. `--cpu-prof` (see `run.ts --profile`). */
  nodeFlags?: string[];
  /** `shepherd master --log-level` (default: the master's own default, info). */
  logLevel?: string;
}

/** A running master process. */
export interface MasterProcess {
  process: GroupProcess;
  pid: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** ws://127.0.0.1:PORT */
  workerUrl: string;
  api: MasterApi;
  /** SIGTERM, then SIGKILL after a grace period; a profiled master writes its profile as it exits. */
  stop(): Promise<void>;
}

/** Writes `shepherd.yml` into `dir` and starts `shepherd master` on it (log in `dir/master.log`); resolves once it listens. */
export async function startMaster(options: {
  dir: string;
  config: ConfigInput;
  env: Record<string, string>;
  launch?: MasterLaunch;
  /** Raise the open-files limit of the master to this first. */
  openFiles?: number;
}): Promise<MasterProcess> {
  const configPath = join(options.dir, 'shepherd.yml');
  writeFileSync(configPath, stringify(options.config));
  const proc = new GroupProcess('master', {
    name: 'master',
    command: process.execPath,
    args: [
      ...(options.launch?.nodeFlags ?? []),
      CLI, 'master', '--config', configPath,
      ...(options.launch?.logLevel ? ['--log-level', options.launch.logLevel] : []),
    ],
    env: { ...process.env, ...options.env },
    cwd: options.dir,
    openFiles: options.openFiles,
    logFile: join(options.dir, 'master.log'),
  });
  try {
    // The pino line at info; the CLI's own note otherwise (it is printed at every log level).
    const match = await proc.waitForLine(/"url":"(http:\/\/[^"]+)".*master listening|^shepherd master listening on (http:\/\/\S+)/, 30_000);
    const url = (match[1] ?? match[2])!;
    const token = options.env.SHEPHERD_API_TOKEN ?? '';
    return {
      process: proc,
      pid: proc.pid,
      url,
      workerUrl: url.replace(/^http/, 'ws'),
      api: new MasterApi(url, token),
      stop: () => proc.stop('SIGTERM', 15_000),
    };
  } catch (error) {
    await proc.stop('SIGKILL');
    throw error;
  }
}

/** Starts one worker agent (the one-file bundle) against `masterWs`; its log goes to `${dir}.log`. */
export function startWorker(options: { masterWs: string; name: string; secret: string; dir: string }): GroupProcess {
  mkdirSync(options.dir, { recursive: true });
  return new GroupProcess(`worker ${options.name}`, {
    name: `worker ${options.name}`,
    command: process.execPath,
    args: [WORKER_BUNDLE, '--master', options.masterWs, '--name', options.name, '--secret-env', 'SHEPHERD_BENCH_SECRET', '--dir', options.dir],
    env: { ...process.env, SHEPHERD_BENCH_SECRET: options.secret },
    logFile: `${options.dir}.log`,
  });
}

/** Stops processes in parallel, ignoring those already gone. */
export async function stopAll(processes: Iterable<{ stop(): Promise<void> } | undefined>): Promise<void> {
  await Promise.all([...processes].map((p) => p?.stop()));
}

/** The few REST calls the workloads make. */
export class MasterApi {
  constructor(readonly url: string, private readonly token: string) {}

  async #call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/api/v1${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'POST' ? { authorization: `Bearer ${this.token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  /** `POST /builders/:name/force` with an empty body; the queued request. */
  async force(builder: string): Promise<RequestJson> {
    const { request } = await this.#call<{ request: RequestJson }>('POST', `/builders/${encodeURIComponent(builder)}/force`, {});
    return request;
  }

  /** `GET /builds/:id`: the build with its steps. */
  build(id: number): Promise<BuildDetailJson> {
    return this.#call('GET', `/builds/${id}`);
  }

  /** `GET /workers`. */
  async workers(): Promise<WorkerJson[]> {
    return (await this.#call<{ workers: WorkerJson[] }>('GET', '/workers')).workers;
  }
}

/** Polls `GET /workers` until every named worker is connected. */
export async function waitForWorkers(api: MasterApi, names: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const workers = await api.workers();
    const connected = new Set(workers.filter((w) => w.connected).map((w) => w.name));
    const missing = names.filter((n) => !connected.has(n));
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new Error(`workers not connected after ${timeoutMs} ms: ${missing.slice(0, 10).join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
