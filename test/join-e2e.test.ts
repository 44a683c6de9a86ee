/**
 * Joining the farm, end to end, with real processes: a volunteer offers a
 * machine with `shepherd join`, an operator lists and approves it with
 * `shepherd applications`, the volunteer collects the secret once with
 * `shepherd join --status --write-config`, and a real worker agent started
 * from that config runs a forced build (its builder selects it by the
 * dimensions it proposed). Retiring it is refused while it builds, then
 * works: it is disconnected, refused on reconnect, and its build stays.
 * A declined application tells its volunteer why.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ManagedProcess, WORKER_BUNDLE, apiGet, freePort, runCli, secret, startMasterProcess, tempDir, waitFor, writeFile } from './helpers/farm.js';

const TOOLCHAIN = 'e2e-cc';

function config(o: { dir: string; port: number }): string {
  return `
master:
  listen: 127.0.0.1:${o.port}
  database: sqlite:${o.dir}/shepherd.sqlite
  data_dir: ${o.dir}/data
  api_token_env: SHEPHERD_API_TOKEN
builders:
  - name: volunteered
    workers: { os: ${process.platform}, toolchain: ${TOOLCHAIN} }
    steps:
      # Runs until the test lets it finish, so that retiring can be tried while it builds.
      - { name: build, run: 'while [ ! -f "${o.dir}/go" ]; do sleep 0.05; done; echo built' }
platforms:
  - { name: e2e-platform, select: { toolchain: ${TOOLCHAIN} }, tier: 1, redundancy: 1 }
`;
}

describe('shepherd join, applications, worker retire', () => {
  let dir: string;
  let url: string;
  let master: ManagedProcess;
  const token = secret();
  /** Operators' commands carry the API token; the volunteer's never do. */
  const operator = { SHEPHERD_API_TOKEN: token };
  const volunteer = { SHEPHERD_API_TOKEN: '' };

  beforeAll(async () => {
    dir = tempDir();
    const started = await startMasterProcess(writeFile(dir, 'shepherd.yml', config({ dir, port: await freePort() })), operator);
    master = started.process.shareAcrossTests();
    url = started.url;
  });
  afterAll(async () => {
    await master?.stop();
  });

  const shepherd = (args: string[], env: Record<string, string>) => runCli([...args, '--master', url], env);

  it('a volunteer joins, is approved, collects the secret once, builds, and is retired with its history kept', async () => {
    // The volunteer offers this machine: detected os/arch plus a dimension of its own.
    const offered = await shepherd(['join', '--name', 'volunteer-1', '--contact', 'Vera <vera@example.org>', '--dimension', `toolchain=${TOOLCHAIN}`, '--notes', 'a spare box'], volunteer);
    expect(offered.stderr).toBe('');
    expect(offered.code).toBe(0);
    const [, id, appToken] = /shepherd join --master \S+ --status (\d+) --token (\S+)/.exec(offered.stdout) ?? [];
    expect(id, offered.stdout).toBeDefined();
    expect(offered.stdout).toContain(`token: ${appToken}  (keep it: shown only now)`);
    expect(offered.stdout).toContain('it could run builders: volunteered');

    // The operator sees it, with what it would cover; the list needs the token.
    const listed = await shepherd(['applications', '--state', 'pending'], operator);
    expect(listed.code).toBe(0);
    const row = listed.stdout.split('\n').find((l) => l.startsWith(`${id} `)) ?? '';
    expect(row).toMatch(new RegExp(`volunteer-1\\s+.*os=${process.platform}.*toolchain=${TOOLCHAIN}.*Vera <vera@example.org>.*pending\\s+e2e-platform\\s+volunteered`));
    expect((await shepherd(['applications'], volunteer)).code).toBe(1);

    // Before a decision, the volunteer is told to wait.
    const workerDir = join(dir, 'volunteer');
    mkdirSync(workerDir);
    const configPath = join(workerDir, 'worker.yml');
    const early = await shepherd(['join', '--status', id!, '--token', appToken!], volunteer);
    expect([early.code, early.stdout]).toEqual([0, `application ${id}: pending; the operators have not decided yet\n`]);

    const approved = await shepherd(['applications', 'approve', id!], operator);
    expect(approved.stderr).toBe('');
    expect(approved.stdout).toContain(`application ${id} approved: worker "volunteer-1" created`);

    // First status call: the secret, the command and the config, written 0600.
    const collected = await shepherd(['join', '--status', id!, '--token', appToken!, '--write-config', configPath], volunteer);
    expect(collected.stderr).toBe('');
    expect(collected.code).toBe(0);
    const workerSecret = /^secret: (\S+)  \(keep it: shown only now\)$/m.exec(collected.stdout)?.[1];
    expect(workerSecret, collected.stdout).toBeDefined();
    expect(collected.stdout).toContain(`node shepherd-worker.mjs --config ${configPath}`);
    expect(collected.stdout).toContain(`config written to ${configPath}`);
    expect(statSync(configPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(configPath, 'utf8')).toContain('name: volunteer-1');

    // Second call: no secret, and how to get a new one; the config is never overwritten.
    const again = await shepherd(['join', '--status', id!, '--token', appToken!], volunteer);
    expect(again.code).toBe(0);
    expect(again.stdout).not.toContain(workerSecret!);
    expect(again.stdout).toMatch(/its secret was already collected at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d .*an operator must retire the worker/);
    const overwrite = await shepherd(['join', '--status', id!, '--token', appToken!, '--write-config', configPath], volunteer);
    expect(overwrite.code).toBe(1);
    expect(overwrite.stderr).toMatch(/--write-config: .* already exists/);

    // The agent, started the way the volunteer was told, connects as the new worker.
    const agent = new ManagedProcess(
      'worker volunteer-1',
      spawn(process.execPath, [WORKER_BUNDLE, '--config', configPath], {
        cwd: workerDir,
        env: { ...process.env, SHEPHERD_WORKER_SECRET: workerSecret! },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await waitFor('volunteer-1 connected', async () => {
      const { workers } = await apiGet<{ workers: { name: string; connected: boolean; source: string }[] }>(url, '/workers');
      const w = workers.find((x) => x.name === 'volunteer-1');
      return w?.connected ? w : undefined;
    });
    const shown = await shepherd(['workers'], volunteer);
    expect(shown.stdout.split('\n').find((l) => l.startsWith('volunteer-1 '))).toMatch(/Vera <vera@example.org>.*registered/);

    // A forced build runs on it; retiring it meanwhile is refused.
    const forced = await shepherd(['force', 'volunteered'], operator);
    expect(forced.code, forced.stderr).toBe(0);
    const buildId = Number(forced.stdout.trim());
    expect(buildId).toBeGreaterThan(0);
    const busy = await shepherd(['worker', 'retire', 'volunteer-1'], operator);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/running builds .*SHEPHERD_E_CONFLICT/);

    writeFileSync(join(dir, 'go'), '');
    const build = await waitFor('the build to finish', async () => {
      const b = await apiGet<{ result: string | null; worker: string }>(url, `/builds/${buildId}`);
      return b.result ? b : undefined;
    });
    expect(build).toMatchObject({ result: 'SUCCESS', worker: 'volunteer-1' });

    // Idle: retired, disconnected, refused when the agent tries again; the build stays.
    const retired = await waitFor('retire accepted once idle', async () => {
      const r = await shepherd(['worker', 'retire', 'volunteer-1'], operator);
      return r.code === 0 ? r : undefined;
    });
    expect(retired.stdout).toMatch(/^volunteer-1: retired at .*; its history stays \(1 build run\)\n$/);
    await agent.waitForOutput(/the master refused this worker/, 30_000);
    const { workers } = await apiGet<{ workers: { name: string }[] }>(url, '/workers');
    expect(workers.map((w) => w.name)).not.toContain('volunteer-1');
    const gone = await shepherd(['workers', '--retired'], volunteer);
    expect(gone.stdout.split('\n').find((l) => l.startsWith('volunteer-1 '))).toMatch(/volunteer-1\s+.*\s+1\s+.*toolchain=e2e-cc.*Vera/);
    const history = await apiGet<{ builds: { id: number }[] }>(url, '/builds?worker=volunteer-1');
    expect(history.builds.map((b) => b.id)).toEqual([buildId]);
    await agent.stop();
    expect(existsSync(configPath)).toBe(true);
  });

  it('a declined volunteer waiting with --wait, and later with --status, is told why', async () => {
    const waiting = new ManagedProcess(
      'shepherd join --wait',
      spawn(process.execPath, [CLI, 'join', '--master', url, '--name', 'volunteer-2', '--contact', 'vic@example.org', '--no-detect', '--dimension', 'os=plan9', '--wait'], {
        env: { ...process.env, ...volunteer },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const [, id, appToken] = await waiting.waitForOutput(/--status (\d+) --token (\S+)/);
    expect(waiting.stdout).toContain('no builder selects these dimensions yet');
    const declined = await shepherd(['applications', 'decline', id!, '--reason', 'no plan9 builders here'], operator);
    expect(declined.stdout).toBe(`application ${id} declined: no plan9 builders here\n`);
    // --wait checks every 5 s: it ends with the reason and status 1.
    expect((await waiting.exited).code).toBe(1);
    expect(waiting.stdout).toContain(`application ${id}: declined: no plan9 builders here\n`);

    const status = await shepherd(['join', '--status', id!, '--token', appToken!], volunteer);
    expect([status.code, status.stdout]).toEqual([1, `application ${id}: declined: no plan9 builders here\n`]);
    const wrong = await shepherd(['join', '--status', id!, '--token', 'not-the-token'], volunteer);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('SHEPHERD_E_UNAUTHORIZED');
    const listed = await shepherd(['applications', '--state', 'declined', '--json'], operator);
    expect(JSON.parse(listed.stdout).applications).toEqual([expect.objectContaining({ id: Number(id), state: 'declined', reason: 'no plan9 builders here' })]);
  });
});
