/**
 * Debian's `buildbot-worker` (3.7, unmodified) for end-to-end tests: makes a
 * worker directory with `buildbot-worker create-worker --protocol
 * msgpack_experimental_v7`, writes its `info/admin`, and runs it in the
 * foreground in a process group of its own, so stopping it takes down twistd
 * and anything it started. Processes are tracked by farm.ts: a test that
 * leaves one running fails.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess, waitFor } from './farm.js';

/** Where `buildbot-worker` is; Debian's package installs it here. */
export const BUILDBOT_WORKER = '/usr/bin/buildbot-worker';

/** What a test worker directory is made with. */
export interface BuildbotWorkerSpec {
  dir: string;
  port: number;
  name: string;
  password: string;
  /** `info/admin` (default: a test contact). */
  admin?: string;
  /** `info/host` (default: a test description). */
  host?: string;
}

/** Creates the worker directory exactly as a worker admin would (plus its info files). */
export function createBuildbotWorker(spec: BuildbotWorkerSpec): string {
  execFileSync(BUILDBOT_WORKER, ['create-worker', '--protocol', 'msgpack_experimental_v7', '--maxdelay', '2', spec.dir, `127.0.0.1:${spec.port}`, spec.name, spec.password], {
    stdio: 'pipe',
  });
  writeFileSync(join(spec.dir, 'info', 'admin'), `${spec.admin ?? 'Grace Hopper <grace@example.org>'}\n`);
  writeFileSync(join(spec.dir, 'info', 'host'), `${spec.host ?? 'a Debian test box'}\n`);
  return spec.dir;
}

/** A running `buildbot-worker start --nodaemon`. */
export class BuildbotWorkerProcess {
  constructor(readonly dir: string, readonly process: ManagedProcess) {}

  /** The worker's own log (twistd.log), for failures and for what it was told. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'twistd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Resolves once its log matches `pattern`. */
  waitForLog(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return waitFor(`buildbot-worker log ${pattern}`, () => this.log().match(pattern) ?? undefined, timeoutMs);
  }

  /** SIGTERM to its whole process group, SIGKILL to what is left; resolves once twistd has exited. */
  async stop(): Promise<void> {
    const pgid = this.process.child.pid!;
    signalGroup(pgid, 'SIGTERM');
    const exited = await Promise.race([this.process.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 10_000).unref())]);
    if (!exited) signalGroup(pgid, 'SIGKILL');
    await this.process.exited;
    signalGroup(pgid, 'SIGKILL');
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Starts the worker in the foreground, leading a process group of its own. */
export function startBuildbotWorker(dir: string): BuildbotWorkerProcess {
  const child = spawn(BUILDBOT_WORKER, ['start', '--nodaemon', dir], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONUNBUFFERED: '1' },
  });
  return new BuildbotWorkerProcess(dir, new ManagedProcess(`buildbot-worker ${dir}`, child));
}

/**
 * A step both kinds of worker run for the identical-log checks: both streams,
 * UTF-8, a blank and a long line, the step directory, the step's env and a
 * last line without a newline. The sleep lets both read stdout and stderr in
 * the same order.
 */
export const SAMPLE = [
  'echo "configure: ok"',
  'echo "warning: something" >&2',
  'sleep 0.2',
  'printf "héllo wörld\\n\\n"',
  'printf "%0500d\\n" 7',
  'test -d "$SHEPHERD_STEP_DIR" && echo "step dir: yes"',
  'echo "GREETING=$GREETING"',
  'printf "no newline at the end"',
].join('; ');
