/**
 * The process behind a debug session: a shell on a pseudo-terminal when
 * node-pty can be loaded (an optional dependency: a native module that not
 * every volunteer's machine can build), otherwise plain pipes with stdout and
 * stderr merged. A one-off command always runs on pipes, so its output is
 * exactly what it wrote. Either way the process leads its own process group,
 * so ending the session ends everything started in it.
 */
import { spawn } from 'node:child_process';

/** How a debug process ended. */
export interface DebugProcessExit {
  exitCode: number | null;
  signal: string | null;
  /** It could not be started (no such program, bad directory). */
  error?: string;
}

/** A running debug process, whichever way it was started. */
export interface DebugProcess {
  readonly mode: 'pty' | 'pipe';
  /** What the person should be told about the mode, if anything. */
  readonly note: string | undefined;
  write(data: Buffer): void;
  /** Resizes the terminal (pipe mode: nothing to resize). */
  resize(cols: number, rows: number): void;
  /** Stops reading output until resume(), so a slow connection holds the process back. */
  pause(): void;
  resume(): void;
  /** Ends the process group: SIGHUP (as a closed terminal does), then SIGKILL after `graceMs`. */
  kill(graceMs: number): void;
  onData(listener: (data: Buffer) => void): void;
  onExit(listener: (exit: DebugProcessExit) => void): void;
}

/** What to start and where. */
export interface DebugProcessSpec {
  /** A program and its arguments; absent: an interactive shell. */
  command?: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  cols: number;
  rows: number;
}

/** The part of node-pty used here (node-pty's own types stay out of the build). */
interface PtyModule {
  spawn(
    file: string,
    args: string[],
    options: { name: string; cols: number; rows: number; cwd: string; env: NodeJS.ProcessEnv },
  ): PtyProcess;
}
interface PtyProcess {
  readonly pid: number;
  onData(listener: (data: string | Buffer) => void): unknown;
  onExit(listener: (exit: { exitCode: number; signal?: number }) => void): unknown;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  pause(): void;
  resume(): void;
  kill(signal?: string): void;
}

/** The PTY module, or why there is none. */
export type PtyAvailability = { pty: PtyModule; why?: undefined } | { pty: null; why: string };

const PIPE_NOTE = 'no PTY on this worker (node-pty not installed): pipe mode; no job control';
let cached: Promise<PtyAvailability> | undefined;

/**
 * Loads node-pty once. The specifier is a parameter so that bundlers leave
 * the import alone (the worker bundle ships without it) and tests can name a
 * module that does not exist.
 */
export function loadPty(specifier = 'node-pty'): Promise<PtyAvailability> {
  const load = async (): Promise<PtyAvailability> => {
    try {
      const loaded = (await import(specifier)) as { default?: PtyModule } & Partial<PtyModule>;
      const module = typeof loaded.spawn === 'function' ? (loaded as PtyModule) : loaded.default;
      if (!module || typeof module.spawn !== 'function') return { pty: null, why: `${specifier} has no spawn()` };
      return { pty: module };
    } catch (error) {
      return { pty: null, why: (error as Error).message.split('\n')[0] ?? 'cannot be loaded' };
    }
  };
  if (specifier !== 'node-pty') return load();
  cached ??= load();
  return cached;
}

/**
 * Starts a debug process: `spec.command` on pipes, or an interactive shell
 * on a PTY when `pty` is available, else on pipes. Never throws: a spawn
 * failure is reported through onExit.
 */
export function openDebugProcess(spec: DebugProcessSpec, availability: PtyAvailability): DebugProcess {
  if (!spec.command && availability.pty) {
    try {
      return ptyProcess(spec, availability.pty);
    } catch (error) {
      return pipeProcess(spec, `a PTY could not be opened (${(error as Error).message}): pipe mode; no job control`);
    }
  }
  return pipeProcess(spec, spec.command ? undefined : pipeNote(availability.why));
}

/** Why a shell runs on pipes, for the person at the other end. */
export function pipeNote(why: string | undefined): string {
  if (why === undefined || /Cannot find (package|module)/i.test(why)) return PIPE_NOTE;
  return PIPE_NOTE.replace('node-pty not installed', `node-pty cannot be loaded: ${why}`);
}

/** The shell a session opens: the build environment's SHELL, else /bin/sh. */
function shellOf(env: NodeJS.ProcessEnv): string {
  return env.SHELL && env.SHELL.startsWith('/') ? env.SHELL : '/bin/sh';
}

function ptyProcess(spec: DebugProcessSpec, pty: PtyModule): DebugProcess {
  const env = { ...spec.env, TERM: spec.env.TERM && spec.env.TERM !== 'dumb' ? spec.env.TERM : 'xterm-256color' };
  const child = pty.spawn(shellOf(env), [], { name: env.TERM, cols: spec.cols, rows: spec.rows, cwd: spec.cwd, env });
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  const exitListeners: ((exit: DebugProcessExit) => void)[] = [];
  child.onExit(({ exitCode, signal }) => {
    exited = true;
    clearTimeout(killTimer);
    const exit = signal ? { exitCode: null, signal: signalName(signal) } : { exitCode, signal: null };
    for (const listener of exitListeners) listener(exit);
  });
  return {
    mode: 'pty',
    note: undefined,
    write: (data) => child.write(data.toString('utf8')),
    resize: (cols, rows) => {
      if (!exited) child.resize(cols, rows);
    },
    pause: () => child.pause(),
    resume: () => child.resume(),
    kill(graceMs) {
      if (exited) return;
      signalGroup(child.pid, 'SIGHUP', () => child.kill('SIGHUP'));
      killTimer = setTimeout(() => signalGroup(child.pid, 'SIGKILL', () => child.kill('SIGKILL')), graceMs);
    },
    onData: (listener) => void child.onData((data) => listener(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)),
    onExit: (listener) => void exitListeners.push(listener),
  };
}

function pipeProcess(spec: DebugProcessSpec, note: string | undefined): DebugProcess {
  const [file, ...args] = spec.command ?? [shellOf(spec.env), '-i'];
  const env = spec.command ? spec.env : { ...spec.env, TERM: 'dumb' };
  const child = spawn(file!, args, { cwd: spec.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  const exitListeners: ((exit: DebugProcessExit) => void)[] = [];
  const finish = (exit: DebugProcessExit) => {
    if (exited) return;
    exited = true;
    clearTimeout(killTimer);
    for (const listener of exitListeners) listener(exit);
  };
  child.once('error', (error: NodeJS.ErrnoException) => {
    // After a successful spawn, 'error' only reports a failed kill or write.
    if (child.pid === undefined) finish({ exitCode: null, signal: null, error: `cannot start ${file}: ${error.message}` });
  });
  // 'close' (not 'exit'): all output has been read by then.
  child.once('close', (code, signal) => finish({ exitCode: code, signal }));
  // Writing to a shell that has gone away is no error worth more than the exit.
  child.stdin.on('error', () => {});
  // A one-off command reads nothing (as `ssh -n`): it must not wait for input nobody sends.
  if (spec.command) child.stdin.end();
  return {
    mode: 'pipe',
    note,
    write: (data) => {
      if (!exited && child.stdin.writable) child.stdin.write(data);
    },
    resize: () => {},
    pause: () => {
      child.stdout.pause();
      child.stderr.pause();
    },
    resume: () => {
      child.stdout.resume();
      child.stderr.resume();
    },
    kill(graceMs) {
      if (exited || child.pid === undefined) return;
      const pid = child.pid;
      signalGroup(pid, 'SIGHUP', () => child.kill('SIGHUP'));
      killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL', () => child.kill('SIGKILL')), graceMs);
    },
    onData: (listener) => {
      child.stdout.on('data', listener);
      child.stderr.on('data', listener);
    },
    onExit: (listener) => void exitListeners.push(listener),
  };
}

/** Signals a whole process group, falling back to the process alone. */
function signalGroup(pid: number, signal: NodeJS.Signals, fallback: () => void): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      fallback();
    } catch {
      // Already gone.
    }
  }
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 9: 'SIGKILL', 13: 'SIGPIPE', 15: 'SIGTERM' };
function signalName(signal: number): string {
  return SIGNALS[signal] ?? `signal ${signal}`;
}
