/**
 * The record of step process groups this agent has running, kept in
 * `<dir>/.shepherd/running.jsonl`: a header line (boot id, agent pid), then
 * one line per group started (`{"add":{...}}`) or ended (`{"remove":PGID}`).
 * Appending a line costs a fraction of rewriting and renaming a file, which
 * matters at two changes per step; a line torn by a crash is ignored.
 *
 * Steps run detached, so when the agent itself is killed (kill -9, OOM) its
 * builds keep running with nobody to report them. Their steps are lost anyway
 * (the master ends the build RETRY when the worker does not come back), so
 * the next agent started on the same directory kills those groups instead of
 * letting them race the retried builds for the same build directories.
 */
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { groupAlive, processAlive, signalGroup } from './process-group.js';

/** One running step's group, as recorded on disk. */
export interface RunningGroup {
  pgid: number;
  step_id: number;
  started_at: number;
}

/** The record as read back. */
export interface RunningRecord {
  /** The kernel's boot id: after a reboot the recorded ids mean other processes. */
  boot_id: string | null;
  agent_pid: number;
  groups: RunningGroup[];
}

/** Reads a record file; throws (ENOENT) when there is none. Lines that do not parse are skipped. */
export function readRunningRecord(file: string): RunningRecord {
  const lines = readFileSync(file, 'utf8').split('\n');
  const record: RunningRecord = { boot_id: null, agent_pid: 0, groups: [] };
  const groups = new Map<number, RunningGroup>();
  lines.forEach((line, index) => {
    if (!line) return;
    let entry: { boot_id?: string | null; agent_pid?: number; add?: RunningGroup; remove?: number };
    try {
      entry = JSON.parse(line);
    } catch {
      return; // torn by a crash mid-write
    }
    if (index === 0) {
      record.boot_id = entry.boot_id ?? null;
      record.agent_pid = Number(entry.agent_pid);
    } else if (entry.add) groups.set(entry.add.pgid, entry.add);
    else if (entry.remove !== undefined) groups.delete(entry.remove);
  });
  record.groups = [...groups.values()];
  return record;
}

/** Reads the boot id, where the platform has one. */
function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** Whether the process looks like a Shepherd agent; false where that cannot be told. */
function isShepherdProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shepherd');
  } catch {
    return false;
  }
}

/**
 * Kills the groups an earlier agent process left in `file`; returns what it
 * killed (groups no longer alive are skipped). Call before recording anything.
 * Throws when the agent that wrote the file is still running.
 */
export function killLeftoverGroups(file: string, log: (line: string) => void): RunningGroup[] {
  let recorded: RunningRecord;
  try {
    recorded = readRunningRecord(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log(`ignoring unreadable ${file}: ${(error as Error).message}`);
    return [];
  }
  const now = bootId();
  const sameBoot = !recorded.boot_id || !now || recorded.boot_id === now;
  const other = recorded.agent_pid;
  if (sameBoot && Number.isInteger(other) && other !== process.pid && processAlive(other) && isShepherdProcess(other)) {
    // Two agents on one directory would kill each other's steps and spools.
    throw new Error(`another worker agent (pid ${other}) is using ${dirname(dirname(file))}; give each agent its own directory`);
  }
  const groups = Array.isArray(recorded.groups) ? recorded.groups : [];
  if (groups.length === 0) return [];
  if (recorded.boot_id && now && recorded.boot_id !== now) {
    log(`${groups.length} step(s) of an earlier agent ended with the reboot; nothing to kill`);
    return [];
  }
  const killed: RunningGroup[] = [];
  for (const group of groups) {
    if (!Number.isInteger(group.pgid) || group.pgid <= 1 || group.pgid === process.pid) continue;
    if (!groupAlive(group.pgid)) continue;
    signalGroup(group.pgid, 'SIGKILL');
    killed.push(group);
    log(
      `killed process group ${group.pgid} of step ${group.step_id}, left running by an earlier agent (pid ${recorded.agent_pid}); ` +
        `the master retries its build`,
    );
  }
  return killed;
}

/** This agent's record of its running groups, one appended line per change. */
export class RunningGroups {
  readonly #file: string;
  readonly #groups = new Map<number, RunningGroup>();
  readonly #bootId = bootId();

  constructor(file: string) {
    this.#file = file;
  }

  /** Starts a fresh record (after `killLeftoverGroups` dealt with the old one). */
  reset(): void {
    this.#groups.clear();
    mkdirSync(dirname(this.#file), { recursive: true });
    writeFileSync(this.#file, `${JSON.stringify({ boot_id: this.#bootId, agent_pid: process.pid })}\n`);
  }

  /** Deletes the record: this agent stopped cleanly and left nothing running. */
  close(): void {
    this.#groups.clear();
    rmSync(this.#file, { force: true });
  }

  /** Records a step's group as soon as it exists. */
  add(pgid: number, stepId: number, startedAt: number): void {
    const group = { pgid, step_id: stepId, started_at: startedAt };
    this.#groups.set(pgid, group);
    this.#append({ add: group });
  }

  /** The group has ended (or has been killed). */
  remove(pgid: number): void {
    if (this.#groups.delete(pgid)) this.#append({ remove: pgid });
  }

  /** The groups recorded now. */
  list(): RunningGroup[] {
    return [...this.#groups.values()];
  }

  #append(entry: object): void {
    appendFileSync(this.#file, `${JSON.stringify(entry)}\n`);
  }
}
