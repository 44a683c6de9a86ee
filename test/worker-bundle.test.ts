/**
 * The one-file worker bundle works where `npm install` never ran: copied
 * alone to a temp directory (no node_modules anywhere above it) and run with
 * plain `node`, it answers --version and --help and runs a step for a master.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMaster, within } from '../src/worker/fake-master.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'shepherd-worker.mjs');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const run = promisify(execFile);

let dir: string;
let worker: string;
/** An environment without anything that could help node find modules. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^NODE_(PATH|OPTIONS)$/.test(key)));

beforeAll(() => {
  // `npm test` builds first; run alone, this test builds the bundle itself.
  if (!existsSync(bundle)) execFileSync(process.execPath, [join(root, 'scripts', 'bundle-worker.mjs')], { cwd: root, stdio: 'inherit' });
  dir = mkdtempSync(join(tmpdir(), 'shepherd-bundle-'));
  for (let up = dir; ; up = dirname(up)) {
    if (existsSync(join(up, 'node_modules'))) throw new Error(`${up} has a node_modules: the bundle test would prove nothing`);
    if (dirname(up) === up) break;
  }
  worker = join(dir, 'shepherd-worker.mjs');
  copyFileSync(bundle, worker);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('dist/shepherd-worker.mjs on its own', () => {
  it('prints its version', async () => {
    const { stdout } = await run(process.execPath, [worker, '--version'], { cwd: dir, env });
    expect(stdout).toBe(`${version}\n`);
  });

  it('prints its usage', async () => {
    const { stdout } = await run(process.execPath, [worker, '--help'], { cwd: dir, env });
    expect(stdout).toMatch(/^Usage: shepherd-worker --master ws:\/\/HOST:PORT --name NAME --secret-env VAR --dir DIR/);
  });

  it('refuses bad flags with status 2 and a readable message', async () => {
    const failed = await run(process.execPath, [worker, '--master', 'ws://127.0.0.1:1', '--name', 'w', '--secret-env', 'SHEPHERD_UNSET_SECRET', '--dir', 'work'], {
      cwd: dir,
      env,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 2, stderr: expect.stringContaining('shepherd-worker: --secret-env: environment variable SHEPHERD_UNSET_SECRET is not set') });
  });

  it('connects to a master and runs a step', async () => {
    const master = await FakeMaster.start();
    let child: ChildProcess | undefined;
    try {
      child = spawn(process.execPath, [worker, '--master', master.url, '--name', 'bundled', '--secret-env', 'SHEPHERD_BUNDLE_SECRET', '--dir', 'work'], {
        cwd: dir,
        env: { ...env, SHEPHERD_BUNDLE_SECRET: 'sesame' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

      const connection = await master.nextConnection();
      const hello = await connection.next('hello');
      expect(hello).toMatchObject({ name: 'bundled', secret: 'sesame', info: { agent_version: version } });
      connection.welcome();
      connection.send({
        type: 'start_step',
        step_id: 1,
        build_id: 1,
        command: { run: 'echo hello', env: {}, workdir: '.', builder_dir: 'b', timeout_ms: 0, max_time_ms: 0 },
      });
      const finished = await connection.next('step_finished');
      expect(finished.outcome).toMatchObject({ exit_code: 0, signal: null, spawn_error: null });
      expect(connection.textOf(1)).toBe('hello\n');
      expect(existsSync(join(dir, 'work', 'b'))).toBe(true);

      child.kill('SIGTERM');
      expect(await within(exited, 10_000, 'the worker to exit')).toBe(0);
      expect(stderr).toMatch(/connected to ws:\/\/127\.0\.0\.1:\d+\/worker as bundled/);
      expect(stderr).toMatch(/SIGTERM: stopping/);
      expect(connection.protocolErrors).toEqual([]);
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await master.close();
    }
  });
});
