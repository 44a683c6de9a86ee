/**
 * What Linux says a process costs: CPU time from `/proc/<pid>/stat` (user +
 * system, all threads, in clock ticks) and resident memory from
 * `/proc/<pid>/status`. Read from outside, so the master is measured as it
 * runs, without instrumenting it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, normally 100: CPU time is counted in 10 ms steps). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time a process has used so far, in milliseconds, at tick granularity. */
export interface CpuTimes {
  userMs: number;
  systemMs: number;
}

/**
 * User and system CPU time of all the process's threads so far (utime and
 * stime of /proc/<pid>/stat); with `children`, plus that of its children it
 * has waited for (cutime, cstime: a worker agent's finished steps).
 */
export function cpuTimes(pid: number, { children = false } = {}): CpuTimes {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
  const msPerTick = 1000 / ticksPerSecond();
  const [utime, stime, cutime, cstime] = [fields[11]!, fields[12]!, fields[13]!, fields[14]!];
  return children
    ? { userMs: (utime + cutime) * msPerTick, systemMs: (stime + cstime) * msPerTick }
    : { userMs: utime * msPerTick, systemMs: stime * msPerTick };
}

/** CPU time (user + system) the process has used so far, in milliseconds. */
export function cpuMs(pid: number): number {
  const { userMs, systemMs } = cpuTimes(pid);
  return userMs + systemMs;
}

/** CPU used between two readings. */
export function cpuSince(before: CpuTimes, pid: number): CpuTimes & { totalMs: number } {
  const now = cpuTimes(pid);
  const userMs = now.userMs - before.userMs;
  const systemMs = now.systemMs - before.systemMs;
  return { userMs, systemMs, totalMs: userMs + systemMs };
}

/** Resident set size now, in kB (VmRSS). */
export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Samples a process's RSS on an interval and keeps the highest value seen. */
export class PeakRss {
  #peakKb = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly pid: number, intervalMs = 50) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    try {
      this.#peakKb = Math.max(this.#peakKb, rssKb(this.pid));
    } catch {
      // The process ended; keep what was seen.
    }
  }

  /** Stops sampling and returns the peak in kB. */
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.#peakKb;
  }
}
