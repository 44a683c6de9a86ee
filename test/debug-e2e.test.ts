/**
 * Debug sessions end to end: a real master process, real worker processes
 * (the one-file bundle, each with its own worker.yml), the `shepherd` CLI.
 * `shepherd debug BUILD -- pwd` prints the build's working directory on the
 * worker; a worker whose config has no `debug` section refuses, saying its
 * admin does not allow it; every session is recorded as asciicast v2.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  apiGet,
  freePort,
  runCli,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitForWorkers,
  writeFile,
} from './helpers/farm.js';

function config(port: number): string {
  return `
master:
  listen: 127.0.0.1:${port}
  database: sqlite:./data/shepherd.sqlite
  data_dir: ./data
  api_token_env: SHEPHERD_API_TOKEN
workers:
  - { name: open-1, secret_env: SECRET_OPEN_1 }
  - { name: closed-1, secret_env: SECRET_CLOSED_1 }
builders:
  - name: open-builder
    workers: [open-1]
    steps:
      - { name: prepare, run: "mkdir -p out" }
      - { name: inspect, run: "true", workdir: out, env: { FROM_STEP: "yes" } }
  - name: closed-builder
    workers: [closed-1]
    steps:
      - { name: prepare, run: "true" }
`;
}

describe('shepherd debug', () => {
  it('runs a command in the build directory on an allowing worker, is refused by the other, and records sessions', async () => {
    const dir = realpathSync(tempDir());
    const port = await freePort();
    const configPath = writeFile(dir, 'shepherd.yml', config(port));
    const secrets = { 'open-1': secret(), 'closed-1': secret() };
    const env = { SHEPHERD_API_TOKEN: secret(), SECRET_OPEN_1: secrets['open-1'], SECRET_CLOSED_1: secrets['closed-1'] };
    const { process: master, url } = await startMasterProcess(configPath, env);
    const allowYml = writeFile(dir, 'open-worker.yml', 'debug: { allow: true, users: [ada], max: 10m, approval: false }\n');
    const denyYml = writeFile(dir, 'closed-worker.yml', 'admin: Victor <victor@example.org>\n');
    const ws = url.replace('http', 'ws');
    const open = startWorkerProcess({ master: ws, name: 'open-1', secret: secrets['open-1'], dir: join(dir, 'open-1'), extraArgs: ['--config', allowYml] });
    const closed = startWorkerProcess({ master: ws, name: 'closed-1', secret: secrets['closed-1'], dir: join(dir, 'closed-1'), extraArgs: ['--config', denyYml] });
    await waitForWorkers(url, ['open-1', 'closed-1']);
    // --master right after the command: after `--` it would be part of the remote command.
    const client = ([command, ...rest]: string[]) => runCli([command!, '--master', url, ...rest], { SHEPHERD_API_TOKEN: env.SHEPHERD_API_TOKEN });
    try {
      const openBuild = await client(['force', 'open-builder', '--wait', '--json']);
      expect(openBuild.code).toBe(0);
      const openId = JSON.parse(openBuild.stdout).id as number;
      const closedBuild = await client(['force', 'closed-builder', '--wait', '--json']);
      expect(closedBuild.code).toBe(0);
      const closedId = JSON.parse(closedBuild.stdout).id as number;

      // The build's working directory, on the worker: the last step's workdir under the builder's directory.
      const pwd = await client(['debug', String(openId), '--user', 'ada', '--', 'pwd']);
      expect(pwd.stderr).toBe('');
      expect(pwd.stdout).toBe(`${join(dir, 'open-1', 'open-builder', 'out')}\n`);
      expect(pwd.code).toBe(0);

      // The step's environment, and the remote status as the CLI's own.
      const status = await client(['debug', String(openId), '--user', 'ada', '--', 'sh', '-c', 'echo "$FROM_STEP"; exit 3']);
      expect(status.stdout).toBe('yes\n');
      expect(status.code).toBe(3);

      const notListed = await client(['debug', String(openId), '--user', 'mallory', '--', 'pwd']);
      expect(notListed.code).toBe(1);
      expect(notListed.stderr).toContain('user mallory is not among those the admin of open-1 allows');

      const refused = await client(['debug', String(closedId), '--user', 'ada', '--', 'pwd']);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain("debug session refused: the worker's admin does not allow debug sessions on closed-1");

      // The audit lists each session; the recording of the first is valid asciicast v2.
      const { sessions } = await apiGet<{ sessions: any[] }>(url, `/builds/${openId}/debug-sessions`);
      expect(sessions.map((s) => [s.user, s.exit_code, s.refused_reason === null])).toEqual([
        ['mallory', null, false],
        ['ada', 3, true],
        ['ada', 0, true],
      ]);
      const first = sessions[2];
      const response = await fetch(`${url}${first.recording}`, { headers: { authorization: `Bearer ${env.SHEPHERD_API_TOKEN}` } });
      expect(response.status).toBe(200);
      const lines = (await response.text()).trimEnd().split('\n').map((line) => JSON.parse(line));
      expect(lines[0]).toMatchObject({ version: 2, width: expect.any(Number), height: expect.any(Number), timestamp: expect.any(Number) });
      expect(lines[0].timestamp * 1000).toBeGreaterThanOrEqual(Math.floor(first.started_at / 1000) * 1000);
      const events = lines.slice(1);
      expect(events.length).toBeGreaterThan(0);
      for (const event of events) {
        expect(event).toEqual([expect.any(Number), 'o', expect.any(String)]);
      }
      expect(events.map((e: [number, string, string]) => e[2]).join('')).toBe(pwd.stdout);

      const { sessions: closedSessions } = await apiGet<{ sessions: any[] }>(url, `/builds/${closedId}/debug-sessions`);
      expect(closedSessions).toEqual([
        expect.objectContaining({ worker: 'closed-1', recording: null, refused_reason: "the worker's admin does not allow debug sessions on closed-1" }),
      ]);

    } finally {
      await Promise.all([open.stop(), closed.stop()]);
      await master.stop();
    }
  }, 120_000);
});
