/**
 * The repro and rebuild routes over the real coordinator and store: the
 * script of a build that ran through the worker protocol, and a rebuild whose
 * environment reaches the steps the coordinator sends the worker.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Build } from '../domain.js';
import { createHttpServer } from './server.js';
import { TEST_TOKEN, createTestControl, type TestControl } from './test-control.js';

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [{ name: 'linux-1', secret_env: 'W1', dimensions: { os: 'linux', arch: 'x86_64' } }],
  changes: [{ name: 'proj', git: 'https://ci:s3cret@git.example.org/proj.git', branches: ['main'] }],
  builders: [
    {
      name: 'unix-tests',
      workers: { os: 'linux' },
      properties: { jobs: '4' },
      steps: [
        { name: 'checkout', checkout: { source: 'proj' } },
        { name: 'test', run: 'make -j${{ props.jobs }} test', workdir: 'build', env: { V: '0' } },
        { name: 'package', run: ['tar', 'czf', 'out dir.tgz', '.'] },
      ],
    },
  ],
};

const auth = { authorization: `Bearer ${TEST_TOKEN}` };
const REVISION = 'c0ffee'.repeat(6) + 'c0ff';

let control: TestControl;
let app: FastifyInstance;
/** Failed at its test step, on revision REVISION with a try patch. */
let failed: Build;

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  await control.connect('linux-1');
  app = await createHttpServer(control, {
    logger: false,
    registry: new Registry(),
    onWorkerSocket: (s) => s.close(),
    publicUrl: () => 'https://farm.example.org',
  });
  const patch = await control.store.addPatch({
    source: 'proj', baseRevision: REVISION, branch: 'main', author: 'Ada <ada@example.org>', comment: 'try it',
    data: Buffer.from('diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n'), createdAt: Date.now(),
  });
  const request = await control.force({
    builder: 'unix-tests',
    properties: { revision: REVISION, branch: 'main', source: 'proj', flavour: 'debug' },
    reason: 'try',
    submittedBy: 'ada',
    patchId: patch.id,
  });
  const started = await control.buildStarted(request.id);
  failed = await control.runBuild(started.id, (step) => (step.name === 'test' ? { exit_code: 2 } : {}));
});
afterAll(async () => {
  await app.close();
  await control.close();
});

describe('GET /api/v1/builds/:id/repro', () => {
  it('answers a shell script that names the build and runs its steps as the worker did', async () => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/builds/${failed.id}/repro` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/x-shellscript; charset=utf-8');
    const script = response.body;
    expect(script).toContain(`# Reproduces Shepherd build unix-tests #${failed.number} (build id ${failed.id}): FAILURE.`);
    expect(script).toContain('# Worker:   linux-1 (arch=x86_64, os=linux)');
    expect(script).toContain(`# Revision: ${REVISION} on branch main`);
    expect(script).toContain(`# Master:   https://farm.example.org (GET /api/v1/builds/${failed.id}/repro)`);
    expect(script).toContain("exec /bin/sh -c 'make -j4 test'");
    expect(script).toContain("export V=0");
    expect(script).toContain("# Commented out: skipped in the build: an earlier step failed.\n# shepherd_step_2() {\n");
    expect(script).toContain("#   exec tar czf 'out dir.tgz' .");
    expect(script).toContain(`cat >"$SHEPHERD_STEP_DIR"/try.patch <<'SHEPHERD_PATCH'\ndiff --git a/x b/x\n`);
  });

  it('never carries the password of the repository URL', async () => {
    const script = (await app.inject({ method: 'GET', url: `/api/v1/builds/${failed.id}/repro` })).body;
    expect(script).not.toContain('s3cret');
    expect(script).toContain('https://ci:***@git.example.org/proj.git');
    expect(script).toContain('# Passwords in URLs were replaced by ***');
  });

  it('gives the parts as JSON with format=json', async () => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/builds/${failed.id}/repro?format=json` });
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json();
    expect(body.build_id).toBe(failed.id);
    expect(body.script).toMatch(/^#!\/bin\/sh\n/);
    expect(body.redacted).toBe(true);
    expect(body.steps.map((s: { name: string; result_in_build: string; commented_out: string | null }) => [s.name, s.result_in_build, s.commented_out !== null]))
      .toEqual([['checkout', 'SUCCESS', false], ['test', 'FAILURE', false], ['package', 'SKIPPED', true]]);
    expect(body.steps[1]).toMatchObject({ dir: 'unix-tests/build', env: { V: '0' }, command: 'make -j4 test', halt_on_failure: true, always_run: false });
    expect(body.steps[0].writes_patch).toBe(true);
  });

  it('answers 404 naming an unknown build, and 400 naming a bad format', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/v1/builds/9999/repro' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toBe('no build with id 9999');
    const bad = await app.inject({ method: 'GET', url: `/api/v1/builds/${failed.id}/repro?format=zsh` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('format');
  });
});

describe('POST /api/v1/builds/:id/rebuild', () => {
  it('needs the API token', async () => {
    const response = await app.inject({ method: 'POST', url: `/api/v1/builds/${failed.id}/rebuild`, payload: {} });
    expect(response.statusCode).toBe(401);
  });

  it('refuses a variable name no shell could export, naming it', async () => {
    const response = await app.inject({
      method: 'POST', url: `/api/v1/builds/${failed.id}/rebuild`, headers: auth, payload: { env: { 'BAD-NAME': '1' } },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.field).toBe('env.BAD-NAME');
  });

  it('queues the same code with the overrides, and the environment reaches every step', async () => {
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/builds/${failed.id}/rebuild`,
      headers: auth,
      payload: { properties: { jobs: '1' }, env: { V: '1', PYTHONVERBOSE: '2' }, submitted_by: 'victor' },
    });
    expect(response.statusCode).toBe(201);
    const { request } = response.json();
    expect(request).toMatchObject({
      builder: 'unix-tests',
      submitted_by: 'victor',
      reason: `rebuild of unix-tests #${failed.number} (build ${failed.id}) by victor`,
      properties: { revision: REVISION, branch: 'main', source: 'proj', flavour: 'debug', jobs: '1', 'env.V': '1', 'env.PYTHONVERBOSE': '2' },
    });
    const original = (await control.store.getRequest(failed.requestId))!;
    const queued = (await control.store.getRequest(request.id))!;
    expect(queued.patchId).toBe(original.patchId);
    expect(queued.changeIds).toEqual(original.changeIds);

    const build = await control.buildStarted(request.id);
    const worker = control.connection('linux-1')!;
    const checkout = await worker.stepStarted((s) => s.buildId === build.id);
    expect(checkout.command.env).toEqual({ V: '1', PYTHONVERBOSE: '2' });
    expect(checkout.command.files?.[0]?.name).toBe('try.patch');
    await control.finishStep(checkout.stepId);
    const test = await worker.stepStarted((s) => s.buildId === build.id && s.stepId !== checkout.stepId);
    expect(test.command).toMatchObject({ run: 'make -j1 test', env: { V: '1', PYTHONVERBOSE: '2' } });
    await control.finishStep(test.stepId, { exit_code: 2 });
    await control.buildFinished(build.id);

    // The rebuild's own repro carries its environment.
    const script = (await app.inject({ method: 'GET', url: `/api/v1/builds/${build.id}/repro` })).body;
    expect(script).toContain('  export PYTHONVERBOSE=2\n  export V=1\n');
  });

  it('answers 404 for an unknown build', async () => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/builds/9999/rebuild', headers: auth, payload: {} });
    expect(response.statusCode).toBe(404);
  });
});
