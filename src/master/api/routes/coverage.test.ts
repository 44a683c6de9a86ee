/**
 * `GET /api/v1/coverage` over the real coordinator and store: workers connect
 * through the worker side of the protocol and builds run there.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttpServer } from '../server.js';
import { createTestControl, type TestControl } from '../test-control.js';

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [
    { name: 'lx-1', secret_env: 'W1', dimensions: { os: 'linux', arch: 'x86_64' } },
    { name: 'lx-2', secret_env: 'W2', dimensions: { os: 'linux', arch: 'x86_64' } },
    { name: 'arm-1', secret_env: 'W3', dimensions: { os: 'linux', arch: 'arm64' } },
    { name: 'mac-1', secret_env: 'W4', dimensions: { os: 'macos', arch: 'arm64' } },
  ],
  builders: [
    { name: 'unix-tests', workers: { os: 'linux' }, steps: [{ name: 'make', run: 'make' }] },
    { name: 'x86-release', workers: { os: 'linux', arch: 'x86_64' }, steps: [{ name: 'make', run: 'make' }] },
    { name: 'mac-app', workers: ['mac-1'], steps: [{ name: 'make', run: 'make' }] },
    { name: 'windows', workers: { os: 'windows' }, steps: [{ name: 'make', run: 'make' }] },
  ],
  platforms: [
    { name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, tier: 1, redundancy: 2 },
    { name: 'linux-arm64', select: { os: 'linux', arch: 'arm64' }, tier: 2, redundancy: 1 },
    { name: 'macos-arm64', select: { os: 'macos', arch: 'arm64' }, tier: 2, redundancy: 1 },
  ],
};

let control: TestControl;
let app: FastifyInstance;

beforeEach(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
});
afterEach(async () => {
  await app.close();
  await control.close();
});

async function coverage(): Promise<any> {
  const response = await app.inject({ method: 'GET', url: '/api/v1/coverage' });
  expect(response.statusCode).toBe(200);
  return response.json();
}

/** Runs a build of `builder` on `worker` to the result given. */
async function run(builder: string, worker: string, result: 'SUCCESS' | 'FAILURE') {
  const { build } = await control.startBuild(builder, worker);
  return control.finishBuild(build.id, result);
}

describe('GET /api/v1/coverage', () => {
  it('shows a tier-1 platform with fewer live workers than its redundancy as short, first, and what is lacking', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    await control.connect('arm-1', { os: 'linux', arch: 'arm64' });
    const body = await coverage();
    expect(body.platforms.map((p: { name: string }) => p.name)).toEqual(['linux-x86_64', 'macos-arm64', 'linux-arm64']);
    expect(body.platforms[0]).toEqual({
      name: 'linux-x86_64',
      tier: 1,
      redundancy: 2,
      select: { os: 'linux', arch: 'x86_64' },
      workers: ['lx-1', 'lx-2'],
      live: ['lx-1'],
      builders: ['unix-tests', 'x86-release'],
      short: true,
      last_green: null,
    });
    expect(body.platforms[2]).toMatchObject({ name: 'linux-arm64', live: ['arm-1'], short: false, builders: ['unix-tests'] });
    expect(body.lacking).toEqual([
      { platform: 'linux-x86_64', tier: 1, select: { os: 'linux', arch: 'x86_64' }, need: 1 },
      { platform: 'macos-arm64', tier: 2, select: { os: 'macos', arch: 'arm64' }, need: 1 },
    ]);
    expect(body.uncoverable_builders).toEqual(['windows']);
    expect(body.unrun_builders).toEqual(['mac-app']);
  });

  it('follows workers connecting and disconnecting', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    await control.connect('lx-2', { os: 'linux', arch: 'x86_64' });
    await control.connect('mac-1', { os: 'macos', arch: 'arm64' });
    let body = await coverage();
    expect(body.platforms[0]).toMatchObject({ name: 'linux-x86_64', live: ['lx-1', 'lx-2'], short: false });
    expect(body.unrun_builders).toEqual([]);

    control.disconnect('lx-1');
    control.disconnect('lx-2');
    body = await coverage();
    expect(body.platforms[0]).toMatchObject({ name: 'linux-x86_64', live: [], short: true });
    expect(body.lacking[0]).toMatchObject({ platform: 'linux-x86_64', need: 2 });
    expect(body.unrun_builders).toEqual(['unix-tests', 'x86-release']);
  });

  it('does not count a paused worker as live', async () => {
    await control.connect('lx-1', { os: 'linux', arch: 'x86_64' });
    await control.connect('lx-2', { os: 'linux', arch: 'x86_64' });
    expect((await coverage()).platforms[0]).toMatchObject({ name: 'linux-x86_64', short: false });
    await control.setPaused('lx-2', true, 'ada');
    expect((await coverage()).platforms[0]).toMatchObject({ name: 'linux-x86_64', workers: ['lx-1', 'lx-2'], live: ['lx-1'], short: true });
  });

  it("shows each platform's newest green build, even when its builders' latest builds failed", async () => {
    const green = await run('x86-release', 'lx-1', 'SUCCESS');
    await run('x86-release', 'lx-1', 'FAILURE');
    const mac = await run('mac-app', 'mac-1', 'SUCCESS');
    const body = await coverage();
    const byName = new Map(body.platforms.map((p: { name: string }) => [p.name, p]));
    expect((byName.get('linux-x86_64') as any).last_green).toEqual({
      id: green.id,
      builder: 'x86-release',
      number: green.number,
      finished_at: green.finishedAt,
    });
    expect((byName.get('macos-arm64') as any).last_green).toMatchObject({ id: mac.id, builder: 'mac-app' });
    expect((byName.get('linux-arm64') as any).last_green).toBeNull();
  });

  it('answers an empty document when no platforms are configured', async () => {
    await app.close();
    await control.close();
    control = await createTestControl();
    app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
    const body = await coverage();
    expect(body).toEqual({ platforms: [], lacking: [], uncoverable_builders: [], unrun_builders: ['unix-tests', 'mac-build'] });
  });
});
