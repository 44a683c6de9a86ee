/**
 * The `local` provider: each instance is a worker agent process on the
 * master's own host (the one-file bundle run with this Node), in its own
 * directory `BASE/POOL/INSTANCE/`:
 *
 *     worker.yml       the agent's config (master, name, secret_env, dir, dimensions)
 *     agent.log        the agent's stdout and stderr (the previous start's in agent.log.1)
 *     work/            the agent's build directory
 *     instance.json    while it runs: pid, pool, name, tag, started_at, argv
 *
 * The agent leads its own process group (detached), so it outlives a master
 * crash and a stop reaches everything it started. The state file is how a
 * new master finds it again (`list()`), and its recorded command line tells
 * our agent from an unrelated process that reuses the pid.
 *
 * stop() removes the state file but keeps the directory: the log is what an
 * operator reads when a start never connected, and the build tree makes the
 * next start's checkout incremental. Instance names are the pool's worker
 * names, a short fixed list, so directories are reused rather than piling up,
 * and only two logs are ever kept per name.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import { systemClock, type Clock } from '../../clock.js';
import { commandLine, descendantGroups, groupAlive, hasProc, processAlive, signalGroup } from './process-probe.js';
import {
  instanceEnv,
  LatentProviderError,
  specProblem,
  type InstanceSpec,
  type InstanceStatus,
  type LatentProvider,
  type ListedInstance,
  type StartedInstance,
} from './provider.js';

/** Options of the local provider; defaults in the signature of createLocalProvider. */
export interface LocalProviderOptions {
  /** Where instance directories go: the master's `DATA_DIR/latent`. */
  baseDir: string;
  /** This master's tag (`shepherd-master=ID`): list() returns only instances carrying it. */
  tag: string;
  /** The one-file agent bundle, `dist/shepherd-worker.mjs`. */
  bundle: string;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  graceMs?: number;
  /**
   * The agent's environment before the SHEPHERD_* variables. Not the master's
   * whole environment: the agent runs build steps, which must not see the
   * master's database URL or other workers' secrets.
   */
  baseEnv?: NodeJS.ProcessEnv;
  clock?: Clock;
}

/** The state file of a running instance. */
const InstanceState = z.object({
  pid: z.number().int().positive(),
  pool: z.string(),
  name: z.string(),
  tag: z.string(),
  started_at: z.number(),
  argv: z.array(z.string()),
});
type InstanceState = z.infer<typeof InstanceState>;

const STATE_FILE = 'instance.json';
const LOG_FILE = 'agent.log';
const TOKEN_ENV = 'SHEPHERD_WORKER_SECRET';

/** The variables an agent needs from the master's environment to run builds like a login shell would. */
export function agentBaseEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|TZ|TMPDIR|LC_[A-Z_]+)$/.test(key)) kept[key] = value;
  }
  return kept;
}

/** `POOL/INSTANCE`: the local provider's instance id. */
export function localInstanceId(pool: string, name: string): string {
  return `${pool}/${name}`;
}

/** The pool and name of an id, or null when it is not one of ours (no path tricks). */
export function parseLocalInstanceId(id: string): { pool: string; name: string } | null {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\/([A-Za-z0-9][A-Za-z0-9._-]*)$/.exec(id);
  return match ? { pool: match[1]!, name: match[2]! } : null;
}

/**
 * Whether the recorded instance is still running: its pid is alive and, where
 * /proc can tell, runs the command line we started (pids are reused).
 */
export function isRunning(state: InstanceState): boolean {
  if (!processAlive(state.pid)) return false;
  if (!hasProc()) return true;
  const argv = commandLine(state.pid);
  return argv !== null && argv.length === state.argv.length && argv.every((arg, i) => arg === state.argv[i]);
}

/** Creates a local provider (see the file comment). */
export function createLocalProvider({
  baseDir,
  tag,
  bundle,
  graceMs = 10_000,
  baseEnv = agentBaseEnv(process.env),
  clock = systemClock,
}: LocalProviderOptions): LatentProvider {
  const fail = (operation: LatentProviderError['operation'], message: string, cause?: unknown) =>
    new LatentProviderError('local', operation, message, { cause });

  const instanceDir = (pool: string, name: string) => join(baseDir, pool, name);

  function readState(dir: string): InstanceState | null {
    let text: string;
    try {
      text = readFileSync(join(dir, STATE_FILE), 'utf8');
    } catch {
      return null;
    }
    try {
      return InstanceState.parse(JSON.parse(text));
    } catch {
      // A torn or foreign file: treated as no record, so the instance is not ours.
      return null;
    }
  }

  function writeState(dir: string, state: InstanceState): void {
    const temp = join(dir, `${STATE_FILE}.tmp`);
    writeFileSync(temp, `${JSON.stringify(state)}\n`);
    renameSync(temp, join(dir, STATE_FILE));
  }

  const pause = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

  /** Waits until none of the groups has a live process; false when `ms` ran out. */
  async function groupsEnd(groups: number[], ms: number): Promise<boolean> {
    // The clock's timers never keep the process alive, but a stop in flight must: a master
    // stopping a stray instance while it starts has nothing else holding its event loop yet,
    // and Node would exit (status 13) in the middle of the wait.
    const keepAlive = setInterval(() => {}, 60_000);
    try {
      const deadline = clock.now() + ms;
      for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
        if (!groups.some(groupAlive)) return true;
        if (clock.now() >= deadline) return false;
        await pause(delay);
      }
    } finally {
      clearInterval(keepAlive);
    }
  }

  async function start(spec: InstanceSpec): Promise<StartedInstance> {
    const problem = specProblem(spec, tag);
    if (problem) throw fail('start', problem);
    const dir = instanceDir(spec.pool, spec.name);
    const previous = readState(dir);
    // Two agents with one name would keep replacing each other's connection.
    if (previous && isRunning(previous)) {
      throw fail('start', `instance ${spec.pool}/${spec.name} is already running (pid ${previous.pid}); stop it first`);
    }

    const configPath = join(dir, 'worker.yml');
    const argv = [process.execPath, bundle, '--config', configPath];
    let child;
    try {
      mkdirSync(join(dir, 'work'), { recursive: true });
      rmSync(join(dir, STATE_FILE), { force: true });
      if (existsSync(join(dir, LOG_FILE))) renameSync(join(dir, LOG_FILE), join(dir, `${LOG_FILE}.1`));
      writeFileSync(
        configPath,
        stringify({ master: spec.master, name: spec.name, secret_env: TOKEN_ENV, dir: 'work', dimensions: { ...spec.dimensions } }),
      );
      const log = openSync(join(dir, LOG_FILE), 'a');
      try {
        child = spawn(argv[0]!, argv.slice(1), {
          cwd: dir,
          detached: true,
          stdio: ['ignore', log, log],
          env: { ...baseEnv, ...instanceEnv(spec) },
        });
        await new Promise<void>((resolve, reject) => {
          child!.once('spawn', resolve);
          child!.once('error', reject);
        });
      } finally {
        closeSync(log);
      }
    } catch (error) {
      throw fail('start', `could not start the agent in ${dir}: ${(error as Error).message}`, error);
    }
    child.unref();
    const pid = child.pid!;
    try {
      writeState(dir, { pid, pool: spec.pool, name: spec.name, tag: spec.tag, started_at: clock.now(), argv });
    } catch (error) {
      // Without its record the instance could never be found again: do not leave it running.
      signalGroup(pid, 'SIGKILL');
      throw fail('start', `could not write ${join(dir, STATE_FILE)}: ${(error as Error).message}`, error);
    }
    return { id: localInstanceId(spec.pool, spec.name) };
  }

  async function stop(id: string): Promise<void> {
    const parsed = parseLocalInstanceId(id);
    if (!parsed) throw fail('stop', `"${id}" is not a local instance id (POOL/INSTANCE)`);
    const dir = instanceDir(parsed.pool, parsed.name);
    const state = readState(dir);
    if (!state) return;
    if (isRunning(state)) {
      const groups = [state.pid, ...descendantGroups(state.pid)];
      signalGroup(state.pid, 'SIGTERM');
      if (!(await groupsEnd(groups, graceMs))) {
        for (const group of groups) signalGroup(group, 'SIGKILL');
        if (!(await groupsEnd(groups, 5_000))) {
          throw fail('stop', `instance ${id} (pid ${state.pid}) survived SIGKILL; its state is kept in ${dir}`);
        }
      }
    }
    rmSync(join(dir, STATE_FILE), { force: true });
  }

  async function status(id: string): Promise<InstanceStatus> {
    const parsed = parseLocalInstanceId(id);
    if (!parsed) return 'unknown';
    const dir = instanceDir(parsed.pool, parsed.name);
    const state = readState(dir);
    if (state) return isRunning(state) ? 'running' : 'stopped';
    // The directory outlives a stop (its logs are kept): a stopped instance, not an unknown one.
    return existsSync(join(dir, 'worker.yml')) ? 'stopped' : 'unknown';
  }

  async function list(): Promise<ListedInstance[]> {
    const found: ListedInstance[] = [];
    for (const pool of subdirectories(baseDir)) {
      for (const name of subdirectories(join(baseDir, pool))) {
        const state = readState(instanceDir(pool, name));
        if (!state || state.tag !== tag || !isRunning(state)) continue;
        found.push({ id: localInstanceId(pool, name), name: state.name, pool: state.pool, startedAt: state.started_at });
      }
    }
    return found;
  }

  return { kind: 'local', start, stop, status, list };
}

function subdirectories(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}
