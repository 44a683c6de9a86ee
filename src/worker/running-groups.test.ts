import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processAlive } from './process-group.js';
import { killLeftoverGroups, readRunningRecord, RunningGroups } from './running-groups.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-running-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a detached group with a grandchild, as a step would be; returns both pids. */
async function startStepLikeGroup(): Promise<{ leader: number; grandchild: number }> {
  const child = spawn('/bin/sh', ['-c', 'sleep 1000 & echo $!; exec sleep 1000'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    lines.close();
    child.stdout.destroy();
    return { leader: child.pid!, grandchild: Number(line) };
  }
  throw new Error('the group printed nothing');
}

async function gone(pid: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (processAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still alive after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A record file as an agent writes it, with a torn last line as a crash could leave. */
function record(header: { boot_id: string | null; agent_pid: number }, groups: { pgid: number; step_id: number; started_at: number }[]): string {
  return [JSON.stringify(header), ...groups.map((add) => JSON.stringify({ add })), '{"remove":'].join('\n');
}

describe('running groups', () => {
  it('records groups on disk as they start and end', () => {
    const file = join(dir, '.shepherd', 'running.jsonl');
    const groups = new RunningGroups(file);
    groups.reset();
    groups.add(4242, 7, 1000);
    groups.add(4343, 8, 2000);
    groups.remove(4242);
    const onDisk = readRunningRecord(file);
    expect(onDisk.agent_pid).toBe(process.pid);
    expect(onDisk.groups).toEqual([{ pgid: 4343, step_id: 8, started_at: 2000 }]);
  });

  it('kills the groups an earlier agent left running, grandchildren included', async () => {
    const file = join(dir, '.shepherd', 'running.jsonl');
    const { leader, grandchild } = await startStepLikeGroup();
    const earlier = new RunningGroups(file);
    earlier.reset();
    earlier.add(leader, 12, Date.now());

    const lines: string[] = [];
    const killed = killLeftoverGroups(file, (line) => lines.push(line));
    expect(killed.map((g) => g.step_id)).toEqual([12]);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`killed process group ${leader} of step 12, left running by an earlier agent`))]);
    await gone(leader);
    await gone(grandchild);
  });

  it('refuses to take over a directory another live agent uses', async () => {
    if (!existsSync('/proc/self/cmdline')) return; // where agents cannot be told apart, nothing is refused
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'shepherd-worker'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => other.once('spawn', resolve));
      const file = join(dir, '.shepherd', 'running.jsonl');
      mkdirSync(join(dir, '.shepherd'));
      writeFileSync(file, record({ boot_id: null, agent_pid: other.pid! }, []));
      expect(() => killLeftoverGroups(file, () => {})).toThrow(`another worker agent (pid ${other.pid}) is using ${dir}; give each agent its own directory`);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('skips groups that are gone, and files written before a reboot', async () => {
    const file = join(dir, 'running.jsonl');
    const lines: string[] = [];
    writeFileSync(file, record({ boot_id: null, agent_pid: 1 }, [{ pgid: 2 ** 22 + 12345, step_id: 1, started_at: 0 }]));
    expect(killLeftoverGroups(file, (l) => lines.push(l))).toEqual([]);
    expect(killLeftoverGroups(join(dir, 'missing.jsonl'), (l) => lines.push(l))).toEqual([]);

    if (existsSync('/proc/sys/kernel/random/boot_id')) {
      // A live group whose id was recorded in another boot is somebody else's.
      const { leader, grandchild } = await startStepLikeGroup();
      try {
        writeFileSync(file, record({ boot_id: 'another-boot', agent_pid: 1 }, [{ pgid: leader, step_id: 1, started_at: 0 }]));
        expect(killLeftoverGroups(file, (l) => lines.push(l))).toEqual([]);
        expect(processAlive(leader) && processAlive(grandchild)).toBe(true);
        expect(lines).toEqual(['1 step(s) of an earlier agent ended with the reboot; nothing to kill']);
      } finally {
        process.kill(-leader, 'SIGKILL');
      }
    }
    expect(lines.join('\n')).not.toMatch(/killed/);
  });
});
