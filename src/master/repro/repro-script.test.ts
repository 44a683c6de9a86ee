/**
 * The repro script run for real: written to a fresh temporary directory and
 * run with `sh`, against a real git repository for checkout steps.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestRepo } from '../changes/test-repo.js';
import { parseConfig } from '../config/load.js';
import type { Build, Change, Result, Step } from '../domain.js';
import { reproScript, type ReproInput } from './repro-script.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'shepherd-repro-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A config with one builder of `steps` (and a change source `proj` at `git`). */
function configOf(steps: unknown[], git = '/nonexistent/repo.git') {
  return parseConfig(
    {
      workers: [{ name: 'w1', secret_env: 'W1', dimensions: { os: 'linux' } }],
      changes: [{ name: 'proj', git }],
      builders: [{ name: 'unix', workers: ['w1'], steps }],
    },
    'test.yml',
    '/tmp',
  );
}

function buildOf(properties: Record<string, string>, result: Result = 'FAILURE'): Build {
  return {
    id: 17, requestId: 5, builder: 'unix', number: 3, worker: 'w1', state: 'finished', result,
    properties: { revision: '', branch: '', builder: 'unix', worker: 'w1', ...properties },
    startedAt: Date.UTC(2024, 0, 2, 3, 4, 5), finishedAt: Date.UTC(2024, 0, 2, 3, 5, 0), summary: null,
  };
}

function stepsOf(results: (Result | null)[], names: string[]): Step[] {
  return results.map((result, index) => ({
    id: 100 + index, buildId: 17, index, name: names[index]!, state: result === null ? 'pending' : 'finished', result,
    command: null, workdir: null, startedAt: null, finishedAt: null, exitCode: null, signal: null,
    summary: result === 'SKIPPED' ? 'an earlier step failed' : null, logBytes: 0, logSeq: 0, logTruncated: false,
  }));
}

function inputOf(config: ReturnType<typeof configOf>, build: Build, results: (Result | null)[], extra: Partial<ReproInput> = {}): ReproInput {
  const builder = config.builders[0]!;
  return {
    build,
    steps: stepsOf(results, builder.steps.map((s) => s.name)),
    builder,
    sources: config.changes,
    patch: null,
    blamelist: [],
    worker: { name: 'w1', dimensions: { os: 'linux', arch: 's390x' } },
    masterUrl: 'http://farm.example.org',
    ...extra,
  };
}

/** Runs the script with sh in `dir`; stdout and stderr merged, as a person sees them. */
function run(text: string, env: Record<string, string> = {}): { status: number | null; out: string } {
  writeFileSync(join(dir, 'repro.sh'), text);
  const result = spawnSync('sh', ['-c', 'sh repro.sh 2>&1'], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, out: result.stdout };
}

describe('reproScript', () => {
  it('says in its header what build it reproduces, where and when it ran', () => {
    const config = configOf([{ name: 'test', run: 'true' }]);
    const blamelist = [{ revision: 'abcdef1234567890', author: 'Ada <ada@example.org>', message: 'Fix the frobnicator\n\nlong text' } as Change];
    const script = reproScript(inputOf(config, buildOf({ revision: 'abcdef1234567890', branch: 'main' }), ['FAILURE'], { blamelist }));
    expect(script.text.startsWith('#!/bin/sh\n# Reproduces Shepherd build unix #3 (build id 17): FAILURE.\n')).toBe(true);
    expect(script.text).toContain('# Worker:   w1 (arch=s390x, os=linux)\n');
    expect(script.text).toContain('# Revision: abcdef1234567890 on branch main\n');
    expect(script.text).toContain('# Ran:      2024-01-02T03:04:05.000Z to 2024-01-02T03:05:00.000Z\n');
    expect(script.text).toContain('# Master:   http://farm.example.org (GET /api/v1/builds/17/repro)\n');
    expect(script.text).toContain('#   abcdef123456 Ada <ada@example.org>: Fix the frobnicator\n');
    expect(script.text).toContain('\nset -eu\n');
  });

  it('runs each step in <builder>/<workdir> with its rendered environment, strings through sh -c, lists quoted', () => {
    const config = configOf([
      { name: 'configure', run: 'pwd > "$OUT"; printf "%s|%s\\n" "$CFLAGS" "$SHEPHERD_STEP_DIR" >> "$OUT"', workdir: 'build-${{ props.flavour }}', env: { CFLAGS: '-O${{ props.opt }}', OUT: '../out.txt' } },
      { name: 'args', run: ['sh', '-c', 'printf "[%s]" "$@" >> ../out.txt', 'x', "it's", 'a b', '$HOME', '${{ props.flavour }}'], workdir: 'build-${{ props.flavour }}' },
    ]);
    const script = reproScript(inputOf(config, buildOf({ flavour: 'debug', opt: '0', 'env.VERBOSE': '1' }, 'SUCCESS'), ['SUCCESS', 'SUCCESS']));
    expect(script.steps.map((s) => [s.dir, s.env])).toEqual([
      ['unix/build-debug', { CFLAGS: '-O0', OUT: '../out.txt', VERBOSE: '1' }],
      ['unix/build-debug', { VERBOSE: '1' }],
    ]);
    const { status, out } = run(script.text);
    expect(status).toBe(0);
    expect(out).toContain('[repro] step 0 configure\n[repro] step 1 args\n[repro] every step succeeded (the build ended SUCCESS)\n');
    const written = readFileSync(join(dir, 'unix/out.txt'), 'utf8');
    const realDir = spawnSync('pwd', ['-P'], { cwd: dir, encoding: 'utf8' }).stdout.trim();
    expect(written.replace(realDir, dir)).toBe(`${dir}/unix/build-debug\n-O0|${dir}/.shepherd-repro/steps/0\n[it's][a b][$HOME][debug]`);
  });

  it('stops at a failing halt_on_failure step with its status, still runs always_run steps, and comments out what the build skipped', () => {
    const config = configOf([
      { name: 'compile', run: 'echo compiled' },
      { name: 'test', run: 'echo "1 test failed"; exit 3' },
      { name: 'install', run: 'echo SHOULD-NOT-RUN' },
      { name: 'cleanup', run: 'echo cleaned up', always_run: true },
    ]);
    const script = reproScript(inputOf(config, buildOf({}), ['SUCCESS', 'FAILURE', 'SKIPPED', 'SUCCESS']));
    expect(script.text).toContain('# Commented out: skipped in the build: an earlier step failed.\n# shepherd_step_2() {\n');
    expect(script.text).toContain('# In the build, step 1 (test) ended FAILURE.');
    const { status, out } = run(script.text);
    expect(status).toBe(3);
    expect(out).toContain('compiled\n[repro] step 1 test\n1 test failed\n[repro] step 1 test failed with exit status 3\n[repro] step 3 cleanup\ncleaned up\n');
    expect(out).not.toContain('SHOULD-NOT-RUN');
    expect(out).toContain('[repro] failed: step 1 test, exit status 3 (the build ended FAILURE)');
  });

  it('halts in the script too when the build did not (a step the build never reached)', () => {
    const config = configOf([{ name: 'a', run: 'exit 1' }, { name: 'b', run: 'echo B-RAN' }, { name: 'c', run: 'echo C-RAN', always_run: true }]);
    const { status, out } = run(reproScript(inputOf(config, buildOf({}, 'SUCCESS'), [null, null, null])).text);
    expect(status).toBe(1);
    expect(out).toContain('[repro] step 1 b: not run, step 0 a failed\n');
    expect(out).not.toContain('B-RAN');
    expect(out).toContain('C-RAN');
  });

  it('goes on after a failure without halt_on_failure and exits with that failure', () => {
    const config = configOf([{ name: 'lint', run: 'exit 4', halt_on_failure: false }, { name: 'test', run: 'echo TESTED' }]);
    const { status, out } = run(reproScript(inputOf(config, buildOf({}), ['FAILURE', 'SUCCESS'])).text);
    expect(status).toBe(4);
    expect(out).toContain('TESTED');
  });

  it('turns a step that cannot be rendered into a failing step that says why', () => {
    const config = configOf([{ name: 'test', run: 'make ${{ props.missing }}' }]);
    const script = reproScript(inputOf(config, buildOf({}, 'EXCEPTION'), ['EXCEPTION']));
    expect(script.steps[0]!.problem).toMatch(/unknown property "missing"/);
    const { status, out } = run(script.text);
    expect(status).toBe(1);
    expect(out).toMatch(/\[repro\] cannot run step test: step test: unknown property "missing"/);
  });

  it('refuses a workdir outside the builder directory, as the worker does', () => {
    const config = configOf([{ name: 'evil', run: 'touch ../../escaped', workdir: '../..' }]);
    const { status, out } = run(reproScript(inputOf(config, buildOf({}), ['EXCEPTION'])).text);
    expect(status).toBe(1);
    expect(out).toMatch(/outside the builder's directory/);
  });

  it('hides passwords in URLs and says so', () => {
    const config = configOf(
      [{ name: 'checkout', checkout: { source: 'proj' } }, { name: 'upload', run: 'curl https://bot:hunter2@up.example.org/x', env: { PIP_INDEX_URL: 'https://u:s3cret@pypi.example.org/simple' } }],
      'https://builder:tok3n@git.example.org/proj.git',
    );
    const script = reproScript(inputOf(config, buildOf({ revision: 'a'.repeat(40), branch: 'main' }), ['SUCCESS', 'SUCCESS']));
    for (const secret of ['tok3n', 'hunter2', 's3cret']) expect(script.text).not.toContain(secret);
    expect(script.text).toContain('https://builder:***@git.example.org/proj.git');
    expect(script.redacted).toBe(true);
    expect(script.text).toContain('# Passwords in URLs were replaced by ***');
    expect(script.steps[1]!.notes[0]).toMatch(/A password in a URL was replaced by \*\*\*/);
  });

  it('falls back to the recorded commands when the builder changed since the build', () => {
    const config = configOf([{ name: 'renamed', run: 'true' }]);
    const input = inputOf(config, buildOf({}), ['FAILURE']);
    const steps = input.steps.map((s) => ({ ...s, name: 'old', command: 'echo from-the-record; exit 2', workdir: 'w' }));
    const script = reproScript({ ...input, steps });
    expect(script.steps[0]!.notes[0]).toMatch(/is now "renamed": command and directory as recorded/);
    const { status, out } = run(script.text);
    expect(status).toBe(2);
    expect(out).toContain('from-the-record');
  });
});

describe('reproScript with a checkout', () => {
  let repo: TestRepo;
  beforeEach(async () => {
    repo = await TestRepo.create();
  });
  afterEach(() => repo.remove());

  const steps = [
    { name: 'checkout', checkout: { source: 'proj' }, workdir: 'src' },
    { name: 'test', run: 'echo "VERSION is $(cat VERSION)"; test "$(cat VERSION)" = 2', workdir: 'src' },
  ];

  it('checks out the build\'s revision, not the branch head, and reproduces the failure', async () => {
    const v1 = await repo.commit('one', { VERSION: '1\n' });
    await repo.push();
    await repo.commit('two', { VERSION: '2\n' });
    await repo.push();
    const config = configOf(steps, repo.origin);
    const { status, out } = run(reproScript(inputOf(config, buildOf({ revision: v1, branch: 'main' }), ['SUCCESS', 'FAILURE'])).text);
    expect(out).toContain('VERSION is 1');
    expect(status).toBe(1);
    expect(spawnSync('git', ['rev-parse', 'HEAD'], { cwd: join(dir, 'unix/src'), encoding: 'utf8' }).stdout.trim()).toBe(v1);
    expect(readFileSync(join(dir, '.shepherd-repro/steps/0/properties'), 'utf8')).toBe(`got_revision=${v1}\n`);
  });

  it('pins a build of the branch head to the revision it got', async () => {
    const v1 = await repo.commit('one', { VERSION: '1\n' });
    await repo.push();
    await repo.commit('two', { VERSION: '2\n' });
    await repo.push();
    const config = configOf(steps, repo.origin);
    const script = reproScript(inputOf(config, buildOf({ got_revision: v1 }), ['SUCCESS', 'FAILURE']));
    expect(script.steps[0]!.notes[0]).toBe(`The build checked out the head of main, which was ${v1}: that revision is checked out here.`);
    const { status, out } = run(script.text);
    expect(status).toBe(1);
    expect(out).toContain('VERSION is 1');
  });

  it('applies the try patch, embedded as a here-document', async () => {
    const v1 = await repo.commit('one', { VERSION: '1\n' });
    await repo.push();
    const patch = Buffer.from('diff --git a/VERSION b/VERSION\n--- a/VERSION\n+++ b/VERSION\n@@ -1 +1 @@\n-1\n+2\n');
    const config = configOf(steps, repo.origin);
    const script = reproScript(inputOf(config, buildOf({ revision: v1, branch: 'main' }, 'SUCCESS'), ['SUCCESS', 'SUCCESS'], { patch }));
    expect(script.text).toContain(`cat >"$SHEPHERD_STEP_DIR"/try.patch <<'SHEPHERD_PATCH'\ndiff --git a/VERSION b/VERSION\n`);
    expect(script.text).toContain(`# Try patch: ${patch.length} bytes, applied after checkout (step 0 checkout).`);
    const { status, out } = run(script.text);
    expect(out).toContain('VERSION is 2');
    expect(status).toBe(0);
  });

  it('carries a patch that is not plain text byte for byte', async () => {
    const v1 = await repo.commit('one', { 'VERSION': '1\r\n' });
    await repo.push();
    const patch = Buffer.from('diff --git a/VERSION b/VERSION\n--- a/VERSION\n+++ b/VERSION\n@@ -1 +1 @@\n-1\r\n+2\r\n');
    const config = configOf([steps[0], { name: 'test', run: 'od -c VERSION', workdir: 'src' }], repo.origin);
    const script = reproScript(inputOf(config, buildOf({ revision: v1, branch: 'main' }, 'SUCCESS'), ['SUCCESS', 'SUCCESS'], { patch }));
    expect(script.text).not.toContain('SHEPHERD_PATCH');
    const { status, out } = run(script.text);
    expect(status).toBe(0);
    expect(out).toMatch(/2\s+\\r\s+\\n/);
    expect(existsSync(join(dir, '.shepherd-repro/steps/0/try.patch'))).toBe(true);
  });
});
