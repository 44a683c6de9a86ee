/**
 * For CLI tests: runs `shepherd ARGS...` in-process with stdout and stderr
 * captured per test (installs its own beforeEach/afterEach). Test-only:
 * excluded from the build.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { runCli } from './run-cli.js';

/** The CLI under test and what it wrote. */
export interface CapturedCli {
  /** Runs `shepherd ...args`; resolves with the exit status. */
  shepherd(...args: string[]): Promise<number>;
  /** Everything written to stdout since the test began (or `clearOut`). */
  out(): string;
  /** Everything written to stderr since the test began. */
  err(): string;
  /** The same, one entry per write (the CLI writes each message in one write). */
  errWrites(): string[];
  /** Forgets stdout so far (between two commands of one test). */
  clearOut(): void;
  /** Forgets stderr so far. */
  clearErr(): void;
}

/** Captures the CLI's output around every test of the file. */
export function captureCli(): CapturedCli {
  let stdout: Buffer[] = [];
  let stderr: string[] = [];
  beforeEach(() => {
    stdout = [];
    stderr = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stdout.push(Buffer.from(chunk));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  return {
    shepherd: (...args) => runCli(['node', 'shepherd', ...args]),
    out: () => Buffer.concat(stdout).toString(),
    err: () => stderr.join(''),
    errWrites: () => stderr,
    clearOut: () => {
      stdout = [];
    },
    clearErr: () => {
      stderr = [];
    },
  };
}
