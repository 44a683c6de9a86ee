/**
 * Signalling and probing process groups. A step leads its own group, so one
 * signal to `-pgid` reaches every process the build started.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Sends `signal` to every process of the group; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: nothing left in the group
  }
}

/**
 * Whether some process of the group is still alive. Zombies do not count:
 * orphaned members are reparented to PID 1, and in a container PID 1 may
 * never reap them, so `kill(-pgid, 0)` alone would report them forever.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const states = procStates((stat) => stat.pgrp === pgid);
  return states === null || states.some((state) => state !== 'Z' && state !== 'X');
}

/** Whether the process is alive and not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readStat(String(pid));
  return stat === null || (stat.state !== 'Z' && stat.state !== 'X');
}

interface ProcStat {
  state: string;
  pgrp: number;
}

function readStat(pid: string): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]) };
  } catch {
    return null;
  }
}

/** States of the processes matching `filter`, or null where /proc is not available. */
function procStates(filter: (stat: ProcStat) => boolean): string[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const states: string[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat && filter(stat)) states.push(stat.state);
  }
  return states;
}
