/**
 * The record of step process groups this agent has running, kept in
 * `<dir>/.shepherd/running.json`.
 *
 * Steps run detached, so when the agent itself is killed (kill -9, OOM) its
 * builds keep running with nobody to report them. Their steps are lost anyway
 * (the master ends the build RETRY when the worker does not come back), so
 * the next agent started on the same directory kills those groups instead of
 * letting them race the retried builds for the same build directories.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { groupAlive, processAlive, signalGroup } from './process-group.js';

/** One running step's group, as recorded on disk. */
export interface RunningGroup {
  pgid: number;
  step_id: number;
  started_at: number;
}

interface RunningFile {
  /** The kernel's boot id: after a reboot the recorded ids mean other processes. */
  boot_id: string | null;
  agent_pid: number;
  groups: RunningGroup[];
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
  let recorded: RunningFile;
  try {
    recorded = JSON.parse(readFileSync(file, 'utf8')) as RunningFile;
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

/** This agent's record of its running groups, rewritten on every change. */
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
    this.#write();
  }

  /** Deletes the record: this agent stopped cleanly and left nothing running. */
  close(): void {
    this.#groups.clear();
    rmSync(this.#file, { force: true });
  }

  /** Records a step's group as soon as it exists. */
  add(pgid: number, stepId: number, startedAt: number): void {
    this.#groups.set(pgid, { pgid, step_id: stepId, started_at: startedAt });
    this.#write();
  }

  /** The group has ended (or has been killed). */
  remove(pgid: number): void {
    if (this.#groups.delete(pgid)) this.#write();
  }

  /** The groups recorded now. */
  list(): RunningGroup[] {
    return [...this.#groups.values()];
  }

  #write(): void {
    const content: RunningFile = { boot_id: this.#bootId, agent_pid: process.pid, groups: this.list() };
    mkdirSync(dirname(this.#file), { recursive: true });
    // Write then rename, so a crash mid-write never leaves half a file.
    const temp = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temp, `${JSON.stringify(content)}\n`);
    renameSync(temp, this.#file);
  }
}
