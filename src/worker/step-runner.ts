/**
 * Runs one step's process in its own process group and reports how it ended.
 *
 * The group matters: builds fork compilers, test runners and daemons, and a
 * timeout or a cancel must take all of them down, not just the shell at the
 * top. So the step is spawned detached (it leads a new group) and every
 * signal goes to `-pgid`: SIGTERM first, SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { STEP_DIR_ENV, type StepCommand, type StepOutcome } from '../protocol/index.js';
import type { Clock, TimerHandle } from './clock.js';
import { formatDuration } from './format-duration.js';
import type { OutputStream } from './output-sequencer.js';
import { groupAlive, signalGroup } from './process-group.js';
import { resolveStepCwd } from './step-cwd.js';
import { prepareStepDir, readStepProperties } from './step-dir.js';

/** Why the agent ended a step, when it did. */
export type EndedBy = NonNullable<StepOutcome['ended_by']>;

/** What a step runner needs from the agent. */
export interface StepRunnerOptions {
  /** The agent's base directory; the step runs under it. */
  dir: string;
  clock: Clock;
  /** Time between SIGTERM and SIGKILL. */
  killGraceMs: number;
  /** The environment the step's `env` is merged over (the agent's own). */
  baseEnv: NodeJS.ProcessEnv;
  /** The step's output, raw bytes in arrival order, including the agent's own explanatory lines. */
  onOutput(stream: OutputStream, data: Buffer): void;
  /** The process group exists; called once, before any output. */
  onSpawn?(pgid: number): void;
  /**
   * The step's own directory (see `step-dir.ts`): made afresh with the
   * command's `files`, named to the process in `$SHEPHERD_STEP_DIR`, and
   * searched for properties when the process ends.
   */
  stepDir?: string;
}

/** A step that was started (or failed to start). */
export interface RunningStep {
  /** The process group id (the leader's pid), or null when the process never started. */
  readonly pgid: number | null;
  /** Resolves once the process has ended and its output is drained; never rejects. */
  readonly done: Promise<StepOutcome>;
  /**
   * Ends the step: writes `[shepherd] <why>: sending SIGTERM ...` to its
   * output, signals the group, and SIGKILLs it after the grace period. The
   * first reason wins; later calls do nothing.
   */
  terminate(endedBy: EndedBy, why: string): void;
  /** The properties the step set in its directory; read once `done` resolves, empty before. */
  readonly properties: Readonly<Record<string, string>>;
}

const NEWLINE = 0x0a;

/** Starts `command` under `options.dir`; never throws (failures become a `spawn_error` outcome). */
export function runStep(command: StepCommand, options: StepRunnerOptions): RunningStep {
  const { clock, killGraceMs } = options;
  const startedAt = clock.now();
  let lastByte = NEWLINE;
  let finished = false;
  let resolveDone!: (outcome: StepOutcome) => void;
  const done = new Promise<StepOutcome>((resolve) => (resolveDone = resolve));

  function emit(stream: OutputStream, data: Buffer): void {
    if (finished || data.length === 0) return;
    lastByte = data[data.length - 1]!;
    options.onOutput(stream, data);
  }

  // The agent's own lines start on a fresh line so they never glue onto a
  // half-written line of the build's output.
  function say(text: string): void {
    emit('stderr', Buffer.from(`${lastByte === NEWLINE ? '' : '\n'}[shepherd] ${text}\n`));
  }

  function failToStart(message: string): RunningStep {
    say(`cannot start the step: ${message}`);
    finished = true;
    resolveDone({
      exit_code: null,
      signal: null,
      duration_ms: Math.max(0, Math.round(clock.now() - startedAt)),
      ended_by: null,
      spawn_error: message,
    });
    return { pgid: null, done, terminate() {}, properties: {} };
  }

  let cwd: string;
  const stepEnv: NodeJS.ProcessEnv = {};
  try {
    cwd = resolveStepCwd(options.dir, command.builder_dir, command.workdir);
    mkdirSync(cwd, { recursive: true });
    if (options.stepDir !== undefined) {
      prepareStepDir(options.stepDir, command.files);
      stepEnv[STEP_DIR_ENV] = options.stepDir;
    } else if (command.files?.length) {
      throw new Error('the step comes with files but has no directory to put them in');
    }
  } catch (error) {
    return failToStart(describeError(error));
  }

  const [file, args] = typeof command.run === 'string' ? ['/bin/sh', ['-c', command.run]] : [command.run[0]!, command.run.slice(1)];
  let child: ChildProcess;
  try {
    child = spawn(file, args, {
      cwd,
      // The agent's own variables win: the step must find its directory.
      env: { ...options.baseEnv, ...command.env, ...stepEnv },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    // Synchronous failures: arguments with NUL bytes, EMFILE and the like.
    return failToStart(describeError(error));
  }

  if (child.pid === undefined) {
    // Node reports ENOENT/EACCES for the program asynchronously, via 'error'.
    child.once('error', (error) => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      failToStart(describeError(error));
    });
    return { pgid: null, done, terminate() {}, properties: {} };
  }
  const pgid: number = child.pid;
  options.onSpawn?.(pgid);

  let endedBy: EndedBy | null = null;
  let exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | null = null;
  let lastOutputAt = startedAt;
  let idleTimer: TimerHandle | null = null;
  let maxTimer: TimerHandle | null = null;
  let drainTimer: TimerHandle | null = null;

  function terminate(why: EndedBy, text: string): void {
    if (finished || endedBy || exit) return;
    endedBy = why;
    idleTimer?.cancel();
    maxTimer?.cancel();
    say(`${text}: sending SIGTERM to the process group`);
    signalGroup(pgid, 'SIGTERM');
    // Not cancelled when the leader exits: members that ignore SIGTERM and no
    // longer hold the output pipe must still die.
    clock.setTimeout(() => {
      if (groupAlive(pgid)) {
        say(`still running ${formatDuration(killGraceMs)} after SIGTERM: sending SIGKILL to the process group`);
        signalGroup(pgid, 'SIGKILL');
      }
    }, killGraceMs);
  }

  function onData(stream: OutputStream) {
    return (data: Buffer) => {
      lastOutputAt = clock.now();
      emit(stream, data);
    };
  }
  child.stdout!.on('data', onData('stdout'));
  child.stderr!.on('data', onData('stderr'));

  if (command.timeout_ms > 0) {
    const checkIdle = () => {
      const idle = clock.now() - lastOutputAt;
      if (idle >= command.timeout_ms) terminate('timeout', `no output for ${formatDuration(command.timeout_ms)}`);
      else idleTimer = clock.setTimeout(checkIdle, command.timeout_ms - idle);
    };
    idleTimer = clock.setTimeout(checkIdle, command.timeout_ms);
  }
  if (command.max_time_ms > 0) {
    const deadline = startedAt + command.max_time_ms;
    const checkDeadline = () => {
      if (clock.now() >= deadline) terminate('max_time', `still running after ${formatDuration(command.max_time_ms)} (max_time)`);
      else maxTimer = clock.setTimeout(checkDeadline, deadline - clock.now());
    };
    maxTimer = clock.setTimeout(checkDeadline, command.max_time_ms);
  }

  child.on('error', () => {
    // After a successful spawn, 'error' only reports a failed kill(); the
    // group signals above do not go through the ChildProcess.
  });

  child.on('exit', (code, signal) => {
    exit = { code, signal, at: clock.now() };
    idleTimer?.cancel();
    maxTimer?.cancel();
    // The leader is gone, but something it started may still hold the output
    // pipe open (a forgotten `daemon &`); the step must not hang on it.
    drainTimer = clock.setTimeout(() => {
      say(`the step ended but processes it started still hold its output open: sending SIGKILL to the process group`);
      signalGroup(pgid, 'SIGKILL');
      drainTimer = clock.setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, killGraceMs);
    }, killGraceMs);
  });

  let properties: Record<string, string> = {};
  child.on('close', () => {
    drainTimer?.cancel();
    if (options.stepDir !== undefined) {
      const read = readStepProperties(options.stepDir);
      properties = read.properties;
      // In the step's log: the build's author is the one who can fix the lines.
      for (const problem of read.problems) say(problem);
    }
    const ended = exit ?? { code: child.exitCode, signal: child.signalCode, at: clock.now() };
    finished = true;
    resolveDone({
      exit_code: ended.signal ? null : ended.code,
      signal: ended.signal ?? null,
      duration_ms: Math.max(0, Math.round(ended.at - startedAt)),
      ended_by: endedBy,
      spawn_error: null,
    });
  });

  return {
    pgid,
    done,
    terminate,
    get properties() {
      return properties;
    },
  };
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' && /^spawn /.test(error.message)) return `${error.message} (no such program)`;
  if (code === 'EACCES' && /^spawn /.test(error.message)) return `${error.message} (permission denied)`;
  return error.message;
}
