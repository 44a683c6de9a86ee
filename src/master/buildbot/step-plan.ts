/**
 * The pure half of running a Shepherd step on a Buildbot worker: where it
 * runs, the `shell` command's arguments, how the worker's output updates
 * become the same log bytes a Shepherd agent stores, and how the end of the
 * command becomes a StepOutcome.
 */
import { constants } from 'node:os';
import { posix, win32 } from 'node:path';
import { STEP_DIR_ENV, type StepCommand, type StepOutcome } from '../../protocol/index.js';

/** Where the agent keeps its own state under its base directory; steps may not point there. */
export const STATE_DIR_NAME = '.shepherd';

/** A step's absolute paths on the worker. */
export interface StepPaths {
  builderDir: string;
  workdir: string;
  /** The step's own directory: `$SHEPHERD_STEP_DIR`, where files and the properties file go. */
  stepDir: string;
}

/**
 * The step's directories under the worker's base directory, as the agent
 * lays them out (`<base>/<builder_dir>/<workdir>`, `<base>/.shepherd/steps/<id>`).
 * Throws an Error naming the field that escapes the base directory or points
 * into the state directory.
 */
export function stepPaths(basedir: string, windows: boolean, command: Pick<StepCommand, 'builder_dir' | 'workdir'>, stepId: number): StepPaths {
  const path = windows ? win32 : posix;
  const base = path.resolve(basedir);
  const builderDir = path.resolve(base, command.builder_dir);
  const workdir = path.resolve(builderDir, command.workdir);
  for (const [what, value, resolved] of [
    ['builder_dir', command.builder_dir, builderDir],
    ['workdir', command.workdir, workdir],
  ] as const) {
    if (value.includes('\0')) throw new Error(`${what} ${JSON.stringify(value)} contains a NUL byte`);
    const inside = path.relative(base, resolved);
    if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside)) {
      throw new Error(`${what} ${JSON.stringify(value)} escapes the worker directory ${base}`);
    }
    if (inside === STATE_DIR_NAME || inside.startsWith(`${STATE_DIR_NAME}${path.sep}`)) {
      throw new Error(`${what} ${JSON.stringify(value)} points into the worker's state directory ${STATE_DIR_NAME}`);
    }
  }
  return { builderDir, workdir, stepDir: path.join(base, STATE_DIR_NAME, 'steps', String(stepId)) };
}

/** Seconds for the worker's `timeout`/`maxTime` (null: none), rounded up so a limit never shrinks. */
function seconds(ms: number): number | null {
  return ms > 0 ? Math.ceil(ms / 1000) : null;
}

/**
 * The `shell` command's arguments: the same program and argv the agent
 * runs (a string goes through `/bin/sh -c`), the step's environment plus
 * `$SHEPHERD_STEP_DIR`, and the step's limits, which the worker enforces
 * itself (SIGTERM, then SIGKILL `sigtermSeconds` later).
 */
export function shellArgs(command: StepCommand, paths: StepPaths, sigtermSeconds: number): Record<string, unknown> {
  return {
    workdir: paths.workdir,
    command: typeof command.run === 'string' ? ['/bin/sh', '-c', command.run] : [...command.run],
    // The agent's own variable wins, as on the agent.
    env: { ...command.env, [STEP_DIR_ENV]: paths.stepDir },
    want_stdout: true,
    want_stderr: true,
    logEnviron: false,
    timeout: seconds(command.timeout_ms),
    maxTime: seconds(command.max_time_ms),
    sigtermTime: sigtermSeconds,
    max_lines: null,
    usePTY: false,
    logfiles: {},
  };
}

/**
 * The worker settings the master sends on connect. Unlike Buildbot's own
 * master, Shepherd stores output byte for byte: no pattern rewrites
 * carriage returns or escape sequences into newlines (`(?!)` never
 * matches), and lines are not cut at 4 KiB (the worker drops characters
 * when it cuts one).
 */
export const WORKER_SETTINGS = {
  newline_re: '(?!)',
  max_line_length: 32 * 1024 * 1024,
  buffer_timeout: 0.5,
  buffer_size: 64 * 1024,
} as const;

/**
 * Turns one `shell` command's output updates into log bytes. The worker
 * holds a line until its newline comes; a last line without one is flushed
 * when the command completes, after its `rc`, with a newline the process
 * never wrote. That newline is dropped here, so the log ends as the
 * process's output did.
 */
export class OutputTranslator {
  #ended = false;

  /** The log bytes of one update entry; null when it is not output. */
  bytes(key: string, text: string): Buffer | null {
    if (key === 'rc') this.#ended = true;
    if (key !== 'stdout' && key !== 'stderr') return null;
    const data = this.#ended && text.endsWith('\n') ? text.slice(0, -1) : text;
    return data === '' ? null : Buffer.from(data, 'utf8');
  }
}

/** Why the worker ended a command, from its header lines. */
export function endedByOf(headers: readonly string[]): 'timeout' | 'max_time' | null {
  for (const header of headers) {
    if (/command timed out: [\d.]+ seconds without output/.test(header)) return 'timeout';
    if (/command timed out: [\d.]+ seconds elapsed/.test(header)) return 'max_time';
  }
  return null;
}

/** `SIGKILL` for 9, from the worker's `process killed by signal N` header; null when it says none. */
export function signalOf(headers: readonly string[]): string | null {
  for (const header of headers) {
    const match = /process killed by signal (\d+)/.exec(header);
    if (!match) continue;
    const number = Number(match[1]);
    const name = Object.entries(constants.signals).find(([, n]) => n === number)?.[0];
    return name ?? `signal ${number}`;
  }
  return null;
}

/** How the `shell` command ended, as the agent would report it. */
export function shellOutcome(
  end: { rc: number | null; elapsed: number | null; failure: string | null; headers: readonly string[] },
  options: { cancelled: boolean; fallbackMs: number },
): StepOutcome {
  const signal = signalOf(end.headers);
  const endedBy = options.cancelled ? 'cancel' : endedByOf(end.headers);
  const durationMs = end.elapsed !== null ? Math.max(0, Math.round(end.elapsed * 1000)) : Math.max(0, Math.round(options.fallbackMs));
  if (end.rc === null) {
    return { exit_code: null, signal, duration_ms: durationMs, ended_by: endedBy, spawn_error: end.failure ?? 'the worker reported no exit status' };
  }
  // The worker says rc -1 for a process it killed, whatever the signal.
  const killed = signal !== null || (end.rc === -1 && endedBy !== null);
  return { exit_code: killed ? null : end.rc, signal, duration_ms: durationMs, ended_by: endedBy, spawn_error: null };
}

/** A Python `glob` pattern that matches `text` literally where the agent's globs are literal (`[` is special to Python). */
export function pythonGlob(glob: string): string {
  return glob.replace(/\[/g, '[[]');
}
