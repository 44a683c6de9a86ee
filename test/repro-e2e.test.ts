/**
 * `shepherd repro`, end to end: a real master and worker build a real git
 * repository and fail; the script `shepherd repro` prints, run with `sh` in a
 * fresh directory, fails the same way on the same revision. Then `shepherd
 * rebuild -e` runs the build again with an extra variable in every step.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRepo } from '../src/master/changes/test-repo.js';
import {
  ManagedProcess,
  apiGet,
  freePort,
  runCli,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitFor,
  waitForWorkers,
  writeFile,
} from './helpers/farm.js';

interface BuildDetail {
  id: number;
  number: number;
  state: string;
  result: string | null;
  properties: Record<string, string>;
  steps: { name: string; result: string | null }[];
}

let repo: TestRepo;
/** The revision the build checks out: VERSION is 1 there. */
let broken: string;
let url: string;
let env: Record<string, string>;
let master: ManagedProcess;
let worker: ManagedProcess;

beforeAll(async () => {
  repo = await TestRepo.create();
  broken = await repo.commit('version 1', { VERSION: '1\n', 'check.sh': 'echo "VERSION is $(cat VERSION), want 2${VERBOSE:+ (verbose)}"\ntest "$(cat VERSION)" = 2\n' });
  await repo.push();
  // The branch moves on after the build: the script must still check out the build's revision.
  await repo.commit('version 2', { VERSION: '2\n' });
  await repo.push();

  const dir = tempDir();
  const port = await freePort();
  const workerSecret = secret();
  env = { SHEPHERD_API_TOKEN: secret(), SHEPHERD_SECRET_W1: workerSecret };
  const config = writeFile(dir, 'master.yml', `
master:
  listen: 127.0.0.1:${port}
  database: sqlite:${dir}/data/shepherd.sqlite
  data_dir: ${dir}/data
  api_token_env: SHEPHERD_API_TOKEN
workers:
  - name: w1
    secret_env: SHEPHERD_SECRET_W1
    dimensions: { os: linux, arch: x86_64 }
changes:
  - name: proj
    git: ${repo.origin}
    branches: [main]
builders:
  - name: sample
    workers: [w1]
    steps:
      - name: checkout
        checkout: { source: proj }
        workdir: src
      - name: test
        run: sh ./check.sh
        workdir: src
      - name: install
        run: echo installed
`);
  const started = await startMasterProcess(config, env);
  master = started.process.shareAcrossTests();
  url = started.url;
  worker = startWorkerProcess({ master: url.replace(/^http/, 'ws'), name: 'w1', secret: workerSecret, dir: join(dir, 'w1') }).shareAcrossTests();
  await waitForWorkers(url, ['w1']);
});
afterAll(async () => {
  await worker?.stop();
  await master?.stop();
  await repo?.remove();
});

/** Waits for a build to finish and returns it. */
function finished(id: number): Promise<BuildDetail> {
  return waitFor(`build ${id} finished`, async () => {
    const build = await apiGet<BuildDetail>(url, `/builds/${id}`);
    return build.state === 'finished' ? build : undefined;
  }, 60_000);
}

/** Runs `sh FILE` in `cwd`, stdout and stderr merged as a person sees them. */
function sh(file: string, cwd: string): { status: number | null; out: string } {
  const result = spawnSync('sh', ['-c', `sh ${file} 2>&1`], { cwd, encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: cwd } });
  return { status: result.status, out: result.stdout };
}

describe('shepherd repro', () => {
  let buildId: number;

  it('reproduces a failed build in a fresh directory, on the build\'s revision', async () => {
    const forced = await runCli(['force', 'sample', '-p', `revision=${broken}`, '-p', 'branch=main', '--master', url, '--token', env.SHEPHERD_API_TOKEN!]);
    expect(forced.code, forced.stderr).toBe(0);
    buildId = Number(forced.stdout.trim());
    const build = await finished(buildId);
    expect(build.result).toBe('FAILURE');
    expect(build.steps.map((s) => s.result)).toEqual(['SUCCESS', 'FAILURE', 'SKIPPED']);

    const here = tempDir('shepherd-repro-');
    const repro = await runCli(['repro', String(buildId), '-o', join(here, 'repro.sh'), '--master', url]);
    expect(repro.code, repro.stderr).toBe(0);
    expect(repro.stderr).toContain('run it with `sh');

    const fresh = tempDir('shepherd-repro-run-');
    const { status, out } = sh(join(here, 'repro.sh'), fresh);
    expect(status).not.toBe(0);
    expect(out).toContain('VERSION is 1, want 2');
    expect(out).toContain('[repro] step 1 test failed with exit status 1');
    expect(out).not.toContain('installed');
    const head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: join(fresh, 'sample/src'), encoding: 'utf8' }).stdout.trim();
    expect(head).toBe(broken);
  });

  it('prints the script on stdout, and its parts with --json', async () => {
    const text = await runCli(['repro', String(buildId), '--master', url]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^#!\/bin\/sh\n# Reproduces Shepherd build sample #1 /);
    expect(text.stdout).toContain('# Worker:   w1 (arch=x86_64, os=linux)');
    const json = await runCli(['repro', String(buildId), '--json', '--master', url]);
    expect(JSON.parse(json.stdout).steps.map((s: { name: string }) => s.name)).toEqual(['checkout', 'test', 'install']);
  });

  it('says so in one line when the build does not exist', async () => {
    const missing = await runCli(['repro', '9999', '--master', url]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('shepherd: no build with id 9999 (SHEPHERD_E_NOT_FOUND)\n');
  });

  it('rebuilds the same revision with an extra variable in every step', async () => {
    const rebuilt = await runCli(['rebuild', String(buildId), '-e', 'VERBOSE=1', '--wait', '--master', url, '--token', env.SHEPHERD_API_TOKEN!]);
    expect(rebuilt.code).toBe(1); // the rebuild fails too
    const builds = await apiGet<{ builds: BuildDetail[] }>(url, '/builds?builder=sample');
    const newest = builds.builds[0]!;
    expect(newest.id).not.toBe(buildId);
    expect(newest.properties).toMatchObject({ revision: broken, 'env.VERBOSE': '1' });
    const log = await fetch(`${url}/api/v1/builds/${newest.id}/steps/test/log`).then((r) => r.text());
    expect(log).toContain('VERSION is 1, want 2 (verbose)');
  });
});
