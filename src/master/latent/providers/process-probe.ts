/**
 * Probing and signalling the local provider's processes. The master does not
 * import the worker agent's code (only src/protocol is shared), so these few
 * /proc readers mirror src/worker/process-group.ts. Where /proc is missing
 * (macOS), the answers fall back to `kill(pid, 0)`.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
}

function readStat(pid: string): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), state: fields[0] ?? '', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

/** Every process in /proc, or null where there is no /proc. */
function allStats(): ProcStat[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const stats: ProcStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat) stats.push(stat);
  }
  return stats;
}

const dead = (state: string) => state === 'Z' || state === 'X';

/**
 * Whether the process is alive. Zombies do not count: an instance left by an
 * earlier master is reparented to PID 1, which in a container may never reap it.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readStat(String(pid));
  return stat === null || !dead(stat.state);
}

/** Whether some process of the group is alive (zombies excepted). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stats = allStats();
  return stats === null || stats.some((s) => s.pgrp === pgid && !dead(s.state));
}

/** Sends `signal` to the group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * The process's command line, or null where /proc cannot tell (no /proc, or
 * the process is gone). Compared with the recorded one, it tells our agent
 * from an unrelated process that got the same pid after a reboot.
 */
export function commandLine(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return text.split('\0').slice(0, -1);
  } catch {
    return null;
  }
}

/** Whether this host has /proc (Linux): without it, commandLine cannot confirm a pid. */
export function hasProc(): boolean {
  try {
    readdirSync('/proc/self');
    return true;
  } catch {
    return false;
  }
}

/**
 * The process groups of the descendants of `pid` (other than its own). Build
 * steps lead groups (and sessions) of their own, so a signal to the agent's
 * group misses them; they are collected before the agent is signalled, while
 * the parent links still lead to them.
 */
export function descendantGroups(pid: number): number[] {
  const stats = allStats();
  if (!stats) return [];
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const list = children.get(s.ppid) ?? [];
    list.push(s);
    children.set(s.ppid, list);
  }
  const groups = new Set<number>();
  const stack = [pid];
  const seen = new Set<number>();
  while (stack.length) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    for (const child of children.get(next) ?? []) {
      if (child.pgrp !== pid) groups.add(child.pgrp);
      stack.push(child.pid);
    }
  }
  return [...groups];
}
