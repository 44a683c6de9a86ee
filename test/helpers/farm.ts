/**
 * End-to-end harness: real master and worker processes on real sockets,
 * started from the built CLI and the one-file worker bundle. Every process a
 * test starts is tracked and killed after the test, and a test fails if it
 * leaves one running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const WORKER_BUNDLE = join(ROOT, 'dist/shepherd-worker.mjs');

const live = new Set<ManagedProcess>();
const shared = new Set<ManagedProcess>();

/** A child process with its output captured and helpers to wait on it. */
export class ManagedProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly name: string, readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((res) => child.once('exit', (code, signal) => res({ code, signal })));
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  /**
   * Lets the process outlive the test that started it (a master shared by a
   * `describe` block); it must be stopped by the end of the file instead.
   */
  shareAcrossTests(): this {
    shared.add(this);
    return this;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  /** Stops the process (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    this.kill('SIGTERM');
    await this.exited;
  }

  /** Resolves when stderr (or stdout) matches; rejects when the process exits first or time runs out. */
  waitForOutput(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return waitFor(`${this.name} output ${pattern}`, () => {
      const match = this.stderr.match(pattern) ?? this.stdout.match(pattern);
      if (match) return match;
      if (!this.running) {
        const how = this.child.signalCode ? `signal ${this.child.signalCode}` : `status ${this.child.exitCode}`;
        throw new Error(`${this.name} exited (${how}) before printing ${pattern}:\n${this.stderr.slice(-2000)}`);
      }
      return undefined;
    }, timeoutMs);
  }
}

async function killLeaked(which: (p: ManagedProcess) => boolean, when: string): Promise<void> {
  const leaked = [...live].filter((p) => p.running && which(p));
  await Promise.all(leaked.map(async (p) => {
    p.kill('SIGKILL');
    await p.exited;
  }));
  if (leaked.length) throw new Error(`${when} left processes running: ${leaked.map((p) => p.name).join(', ')}`);
}

afterEach(() => killLeaked((p) => !shared.has(p), 'test'));
afterAll(() => killLeaked(() => true, 'test file'));

/** Polls `check` until it returns a value (not undefined); rethrows what it throws. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

/** A TCP port free right now on 127.0.0.1 (for a master that must come back on the same port). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => res(port));
    });
  });
}

/** A fresh temporary directory. */
export function tempDir(prefix = 'shepherd-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A random secret. */
export function secret(): string {
  return randomBytes(18).toString('base64url');
}

/** Starts `shepherd master --config FILE` and resolves once it listens. */
export async function startMasterProcess(configPath: string, env: Record<string, string>): Promise<{ process: ManagedProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'master', '--config', configPath], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new ManagedProcess('master', child);
  const match = await proc.waitForOutput(/"url":"(http:\/\/[^"]+)"[^\n]*master listening/);
  return { process: proc, url: match[1]! };
}

/** Starts the one-file worker bundle with plain node. */
export function startWorkerProcess(options: { master: string; name: string; secret: string; dir: string; extraArgs?: string[] }): ManagedProcess {
  mkdirSync(options.dir, { recursive: true });
  const child = spawn(process.execPath, [
    WORKER_BUNDLE,
    '--master', options.master,
    '--name', options.name,
    '--secret-env', 'SHEPHERD_TEST_WORKER_SECRET',
    '--dir', options.dir,
    ...(options.extraArgs ?? []),
  ], {
    env: { ...process.env, SHEPHERD_TEST_WORKER_SECRET: options.secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new ManagedProcess(`worker ${options.name}`, child);
}

/** Runs the `shepherd` CLI to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new ManagedProcess(`shepherd ${args[0]}`, child);
  const { code } = await proc.exited;
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** GETs a JSON document from the master's API. */
export async function apiGet<T = any>(base: string, path: string): Promise<T> {
  const response = await fetch(`${base}/api/v1${path}`);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Waits until the named workers show as connected in the API. */
export function waitForWorkers(base: string, names: string[], timeoutMs = 20_000): Promise<void> {
  return waitFor(`workers ${names.join(', ')} connected`, async () => {
    const { workers } = await apiGet<{ workers: { name: string; connected: boolean }[] }>(base, '/workers');
    return names.every((n) => workers.find((w) => w.name === n)?.connected) ? true : undefined;
  }, timeoutMs).then(() => undefined);
}

/** Writes a file and returns its path. */
export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}
