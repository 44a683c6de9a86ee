/**
 * Child processes of the benchmark: each one leads its own process group, so
 * stopping it also stops whatever it started (a worker's step, a shell's
 * pipeline). Every live group is remembered and killed when the benchmark
 * exits, however it exits.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

const liveGroups = new Set<number>();
const liveDirs = new Set<string>();

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Kills every process group still running and removes registered temp dirs (synchronously: also used on exit). */
export function killEverything(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

process.once('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, function stopOnSignal() {
    process.stderr.write(`bench: ${signal}, stopping every process it started\n`);
    killEverything();
    process.exit(130);
  });
}

/** Registers a temp dir to remove on exit if the workload's own cleanup never ran. */
export function removeOnExit(dir: string): void {
  liveDirs.add(dir);
}

/** Removes a temp dir now. */
export function removeDir(dir: string): void {
  liveDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** Keeps only the end of a growing text (a child's log can be long). */
class Tail {
  #text = '';
  constructor(private readonly max: number) {}
  push(chunk: string): void {
    this.#text += chunk;
    if (this.#text.length > 2 * this.max) this.#text = this.#text.slice(-this.max);
  }
  get text(): string {
    return this.#text.slice(-this.max);
  }
}

/** Splits a stream of text into lines. */
class LineSplitter {
  #partial = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    const lines = (this.#partial + chunk).split('\n');
    this.#partial = lines.pop()!;
    for (const line of lines) this.onLine(line);
  }
}

/** Reads what a child appends to its log file, every `intervalMs`, until stopped. */
class FileFollower {
  readonly #fd: number;
  #offset = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #buffer = Buffer.allocUnsafe(256 * 1024);
  readonly #decoder = new StringDecoder('utf8');

  constructor(path: string, private readonly onText: (text: string) => void, intervalMs = 50) {
    this.#fd = openSync(path, 'r');
    this.#timer = setInterval(() => this.poll(), intervalMs);
  }

  poll(): void {
    for (;;) {
      const n = readSync(this.#fd, this.#buffer, 0, this.#buffer.length, this.#offset);
      if (n === 0) return;
      this.#offset += n;
      this.onText(this.#decoder.write(this.#buffer.subarray(0, n)));
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.poll();
    closeSync(this.#fd);
  }
}

/** What to spawn. */
export interface SpawnOptions {
  /** Shown in errors. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep stdin open as a pipe (the child can watch for its end). */
  stdinPipe?: boolean;
  /**
   * Raise the open-files limit first, through `sh -c 'ulimit -n N; exec ...'`
   * (same pid); to the hard limit when N is above it and raising that is not
   * allowed (no CAP_SYS_RESOURCE in a container).
   */
  openFiles?: number;
  /**
   * Send stdout and stderr to this file instead of pipes to the benchmark.
   * The master writes each log line with its own write(2): into a pipe, each
   * would wake the benchmark process to read it, and a full pipe would hold
   * the master's writes back. A file is closer to production.
   */
  logFile?: string;
}

/** A child process that leads its own process group, with the tail of its output kept for error messages. */
export class GroupProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #tail = new Tail(64 * 1024);
  readonly #lineListeners = new Set<(line: string) => void>();
  readonly #follower: FileFollower | undefined;

  constructor(readonly name: string, options: SpawnOptions) {
    let { command, args } = options;
    if (options.openFiles !== undefined) {
      // `exec` keeps the pid, so /proc/<pid> is the program itself, not the shell.
      args = ['-c', `ulimit -n ${options.openFiles} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"`, command, ...args];
      command = '/bin/sh';
    }
    const logFd = options.logFile === undefined ? undefined : openSync(options.logFile, 'a');
    try {
      this.child = spawn(command, args, {
        env: options.env ?? process.env,
        cwd: options.cwd,
        detached: true,
        stdio: [options.stdinPipe ? 'pipe' : 'ignore', logFd ?? 'pipe', logFd ?? 'pipe'],
      });
    } finally {
      if (logFd !== undefined) closeSync(logFd);
    }
    if (this.child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    this.pid = this.child.pid;
    liveGroups.add(this.pid);
    const onText = (splitter: LineSplitter) => (chunk: string) => {
      this.#tail.push(chunk);
      splitter.push(chunk);
    };
    const emit = (line: string) => {
      for (const listener of this.#lineListeners) listener(line);
    };
    if (options.logFile !== undefined) {
      this.#follower = new FileFollower(options.logFile, onText(new LineSplitter(emit)));
    } else {
      this.child.stdout!.setEncoding('utf8').on('data', onText(new LineSplitter(emit)));
      this.child.stderr!.setEncoding('utf8').on('data', onText(new LineSplitter(emit)));
    }
    this.child.stdin?.on('error', () => {});
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        liveGroups.delete(this.pid);
        this.#follower?.stop();
        resolve({ code, signal });
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The end of what it wrote (stderr and stdout). */
  get outputTail(): string {
    return this.#tail.text;
  }

  /** Calls `listener` with each later line of its output; returns the unsubscribe. */
  onLine(listener: (line: string) => void): () => void {
    this.#lineListeners.add(listener);
    return () => this.#lineListeners.delete(listener);
  }

  /** Resolves with the first line of its output `pattern` matches, looking at output so far too. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    for (const line of this.#tail.text.split('\n')) {
      const match = line.match(pattern);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms\n${this.outputTail.slice(-2000)}`)), timeoutMs);
      const off = this.onLine((line) => {
        const match = line.match(pattern);
        if (match) finish(undefined, match);
      });
      void this.exited.then(({ code, signal }) =>
        finish(new Error(`${this.name} exited (${signal ?? code}) before printing ${pattern}\n${this.outputTail.slice(-2000)}`)),
      );
      const finish = (error?: Error, match?: RegExpMatchArray) => {
        clearTimeout(timer);
        off();
        if (error) reject(error);
        else resolve(match!);
      };
    });
  }

  /** Sends `signal` to the whole group, waits up to `graceMs`, then SIGKILLs the group. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (this.running) {
      killGroup(this.pid, signal);
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = await Promise.race([
        this.exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs))),
      ]);
      clearTimeout(timer);
      if (gaveUp) process.stderr.write(`bench: ${this.name} did not stop within ${graceMs} ms of ${signal}; killing it\n`);
    }
    // Anything the leader left behind in its group goes too.
    killGroup(this.pid, 'SIGKILL');
    liveGroups.delete(this.pid);
    if (this.running) await this.exited;
  }
}

/** The soft open-files limit a child started through /bin/sh gets. */
export function openFilesLimit(): number {
  const text = execFileSync('/bin/sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
}

/** The soft open-files limit a running process has (from /proc/<pid>/limits). */
export function openFilesLimitOf(pid: number): number {
  const match = /^Max open files\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return !match || match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** Runs a shell command to completion and returns its wall time in seconds (throws on a non-zero exit). */
export async function timeShell(script: string, cwd?: string): Promise<number> {
  const started = process.hrtime.bigint();
  const proc = new GroupProcess('direct command', { name: 'direct command', command: '/bin/sh', args: ['-c', script], cwd });
  const { code, signal } = await proc.exited;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`direct command failed (${signal ?? code}): ${script}\n${proc.outputTail.slice(-1000)}`);
  return seconds;
}

/** Best (shortest) of `runs` timings of a shell command. */
export async function bestOf(runs: number, script: string, cwd?: string): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) best = Math.min(best, await timeShell(script, cwd));
  return best;
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
