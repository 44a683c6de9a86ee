/**
 * `shepherd coverage` against a real master: the test control's coordinator
 * with platforms configured, workers connected through the worker side of
 * the protocol and a build run there.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../master/api/server.js';
import { createTestControl, type TestControl } from '../../master/api/test-control.js';
import type { Build } from '../../master/domain.js';
import { captureCli } from '../capture-cli.js';
import { formatCoverage } from './coverage.js';

const CONFIG = {
  master: { api_token_env: 'SHEPHERD_TEST_TOKEN' },
  workers: [
    { name: 'lx-1', secret_env: 'W1', dimensions: { os: 'linux', arch: 'x86_64' } },
    { name: 'lx-2', secret_env: 'W2', dimensions: { os: 'linux', arch: 'x86_64' } },
    { name: 'mac-1', secret_env: 'W3', dimensions: { os: 'macos', arch: 'arm64' } },
  ],
  builders: [
    { name: 'unix-tests', workers: { os: 'linux' }, steps: [{ name: 'make', run: 'make' }] },
    { name: 'mac-app', workers: ['mac-1'], steps: [{ name: 'make', run: 'make' }] },
    { name: 'windows', workers: { os: 'windows' }, steps: [{ name: 'make', run: 'make' }] },
  ],
  platforms: [
    { name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, tier: 1, redundancy: 2 },
    { name: 'macos-arm64', select: { os: 'macos', arch: 'arm64' }, tier: 2, redundancy: 1 },
  ],
};

let control: TestControl;
let app: FastifyInstance;
let client: string[];
let green: Build;

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
  await app.listen({ host: '127.0.0.1', port: 0 });
  client = ['--master', `http://127.0.0.1:${(app.server.address() as { port: number }).port}`];
  // One of linux-x86_64's two workers is live; the mac is live.
  const { build } = await control.startBuild('unix-tests', 'lx-1');
  green = await control.finishBuild(build.id, 'SUCCESS');
  await control.connect('mac-1', { os: 'macos', arch: 'arm64' });
});
afterAll(async () => {
  await app.close();
  await control.close();
});


const { shepherd, out, err } = captureCli();

describe('shepherd coverage', () => {
  it('--json lists a tier-1 platform with fewer live workers than its redundancy as short', async () => {
    expect(await shepherd('coverage', '--json', ...client)).toBe(0);
    const document = JSON.parse(out());
    expect(document.platforms[0]).toEqual({
      name: 'linux-x86_64',
      tier: 1,
      redundancy: 2,
      select: { os: 'linux', arch: 'x86_64' },
      workers: ['lx-1', 'lx-2'],
      live: ['lx-1'],
      builders: ['unix-tests'],
      short: true,
      last_green: { id: green.id, builder: 'unix-tests', number: green.number, finished_at: green.finishedAt },
    });
    expect(document.platforms[1]).toMatchObject({ name: 'macos-arm64', live: ['mac-1'], short: false, last_green: null });
    expect(document.lacking).toEqual([{ platform: 'linux-x86_64', tier: 1, select: { os: 'linux', arch: 'x86_64' }, need: 1 }]);
    expect(document.uncoverable_builders).toEqual(['windows']);
    expect(document.unrun_builders).toEqual([]);
    expect(err()).toBe('');
  });

  it('prints a table with the short platform marked, then what is lacking', async () => {
    expect(await shepherd('coverage', ...client)).toBe(0);
    const lines = out().split('\n');
    expect(lines[0]).toMatch(/^PLATFORM\s+TIER\s+LIVE\s+BUILDERS\s+LAST GREEN$/);
    expect(lines[1]).toMatch(new RegExp(`^linux-x86_64\\s+1\\s+1/2\\s+SHORT\\s+unix-tests\\s+unix-tests #${green.number} (just now|\\d+s ago)$`));
    expect(lines[2]).toMatch(/^macos-arm64\s+2\s+1\/1\s+mac-app\s+-$/);
    expect(out()).toContain('lacking: 1 more live worker with os=linux arch=x86_64 (linux-x86_64, tier 1)\n');
    expect(out()).toContain('uncoverable: builder windows: no configured worker can run it\n');
  });

  it('says which master it cannot reach, exit 1', async () => {
    expect(await shepherd('coverage', '--master', 'http://127.0.0.1:1')).toBe(1);
    expect(err()).toMatch(/^shepherd: cannot reach the master at http:\/\/127\.0\.0\.1:1 .*\n$/);
  });
});

describe('formatCoverage', () => {
  it('says when no platforms are configured, and lists builders whose workers are all down', () => {
    const text = formatCoverage({ platforms: [], lacking: [], uncoverable_builders: [], unrun_builders: ['mac-app'] }, 0);
    expect(text).toBe(
      'no platforms are configured: add them under platforms in the master config\n' +
        'not running: builder mac-app: all of its workers are disconnected\n',
    );
  });
});
