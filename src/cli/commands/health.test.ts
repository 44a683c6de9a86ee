/**
 * `shepherd health` against a real master: the test control's coordinator
 * with platforms configured, a worker connected through the worker side of
 * the protocol and builds run there.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthJson } from '../../master/api/schemas.js';
import { createHttpServer } from '../../master/api/server.js';
import { createTestControl, type TestControl } from '../../master/api/test-control.js';
import { captureCli } from '../capture-cli.js';
import { formatHealth, formatHealthHistory, scoreBar } from './health.js';

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
  ],
  platforms: [
    { name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, tier: 1, redundancy: 2 },
    { name: 'macos-arm64', select: { os: 'macos', arch: 'arm64' }, tier: 2, redundancy: 1 },
  ],
};

let control: TestControl;
let app: FastifyInstance;
let client: string[];

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
  await app.listen({ host: '127.0.0.1', port: 0 });
  client = ['--master', `http://127.0.0.1:${(app.server.address() as { port: number }).port}`];
  // One of linux-x86_64's two workers is live, and the mac: linux is short.
  const { build } = await control.startBuild('unix-tests', 'lx-1');
  await control.finishBuild(build.id, 'SUCCESS');
  await control.connect('mac-1', { os: 'macos', arch: 'arm64' });
});
afterAll(async () => {
  await app.close();
  await control.close();
});


const { shepherd, out, err, clearOut } = captureCli();

describe('shepherd health', () => {
  it('--json answers the health document', async () => {
    expect(await shepherd('health', '--json', ...client)).toBe(0);
    const document = JSON.parse(out());
    // linux-x86_64 half covered: 50 * 0.5 / 1.5 of the coverage part lost.
    expect(document.score).toBe(83);
    expect(document.platforms).toEqual([
      { name: 'linux-x86_64', tier: 1, score: 50, live: 1, redundancy: 2, short: true },
      { name: 'macos-arm64', tier: 2, score: 100, live: 1, redundancy: 1, short: false },
    ]);
    expect(document.attention).toEqual([
      { kind: 'platform_short', subject: 'linux-x86_64', points: 16.67, message: 'platform linux-x86_64 (tier 1) has 1 of the 2 live workers wanted' },
    ]);
    expect(err()).toBe('');
  });

  it('prints the score, the platforms with the short one marked, and what to act on', async () => {
    expect(await shepherd('health', ...client)).toBe(0);
    const lines = out().split('\n');
    expect(lines[0]).toBe('farm health: 83/100');
    expect(lines[2]).toMatch(/^PLATFORM\s+TIER\s+SCORE\s+LIVE$/);
    expect(lines[3]).toMatch(/^linux-x86_64\s+1\s+50\s+1\/2\s+SHORT$/);
    expect(lines[4]).toMatch(/^macos-arm64\s+2\s+100\s+1\/1$/);
    expect(out()).toContain('act on:\n  - 16.7  platform linux-x86_64 (tier 1) has 1 of the 2 live workers wanted\n');
  });

  it('--history prints the recorded samples, one line each when few; --days bounds them', async () => {
    const now = Date.now();
    await control.store.recordHealthSample({ bucket: now - 3 * 86_400_000, at: now - 3 * 86_400_000, score: 40, platforms: { 'linux-x86_64': 0 } });
    await control.store.recordHealthSample({ bucket: now - 3_600_000, at: now - 3_600_000, score: 83, platforms: { 'linux-x86_64': 50, 'macos-arm64': 100 } });
    expect(await shepherd('health', '--history', '--days', '2', '--json', ...client)).toBe(0);
    expect(JSON.parse(out()).samples).toEqual([{ at: now - 3_600_000, score: 83, platforms: { 'linux-x86_64': 50, 'macos-arm64': 100 } }]);
    clearOut();
    expect(await shepherd('health', '--history', ...client)).toBe(0);
    expect(out().split('\n').slice(1)).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d  ########\.{12}   40  linux-x86_64 0$/),
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d  #{17}\.{3}   83  linux-x86_64 50  macos-arm64 100$/),
      '',
    ]);
    expect(await shepherd('health', '--days', '2', ...client)).toBe(2);
    expect(err()).toMatch(/--days needs --history/);
  });

  it('says which master it cannot reach, exit 1', async () => {
    expect(await shepherd('health', '--master', 'http://127.0.0.1:1')).toBe(1);
    expect(err()).toMatch(/^shepherd: cannot reach the master at http:\/\/127\.0\.0\.1:1 .*\n$/);
  });
});

describe('formatHealth', () => {
  it('lists red and stale builders, suspect workers with their evidence and missing workers with their admins', () => {
    const now = 10 * 86_400_000;
    const document: HealthJson = {
      score: 40,
      platforms: [],
      red_builders: [{ builder: 'lib', count: 4, since: 2 * 86_400_000, first_failing_build_id: 7 }],
      stale_builders: [{ builder: 'docs', since: 8 * 86_400_000 }],
      suspect_workers: [
        {
          worker: 'lx-2',
          count: 3,
          since: 0,
          evidence: [{ builder: 'lib', revision: '0123456789abcdef', failed_at: 0, failed_build_id: 9, passed_on: 'lx-1', passed_build_id: 10 }],
        },
      ],
      missing_workers: [{ name: 'bsd-1', state: 'orphaned', since: 5 * 86_400_000, admins: ['Ada <ada@example.org>'] }],
      worker_states: {},
      attention: [],
      queue_waits: [],
    };
    expect(formatHealth(document, now)).toBe(
      'farm health: 40/100\n' +
        '\nnothing to act on\n' +
        'red: builder lib: 4 failing builds since 8d ago (first: build 7)\n' +
        'stale: builder docs: a request waiting since 2d ago\n' +
        'suspect: worker lx-2: 3 failures others passed: lib@01234567 (build 9; passed on lx-1)\n' +
        'orphaned: worker bsd-1, last seen 5d ago; admins: Ada <ada@example.org>\n',
    );
  });

  it('lists the ten longest queue waits', () => {
    const waits = Array.from({ length: 12 }, (_, i) => ({ builder: `b${i}`, platform: 'linux', builds: 3, p50_ms: 1000 * (12 - i), p95_ms: 60_000 * (12 - i) }));
    const document: HealthJson = {
      score: 100, platforms: [], red_builders: [], stale_builders: [], suspect_workers: [], missing_workers: [], worker_states: {}, attention: [], queue_waits: waits,
    };
    const text = formatHealth(document, 0);
    expect(text).toContain('queue waits (longest p95 first):');
    expect(text).toMatch(/b0\s+linux\s+3\s+12s\s+12m/);
    expect(text).not.toContain('b10 ');
    expect(text).toContain('(2 more: --json)');
  });
});

describe('formatHealthHistory', () => {
  const at = (day: number, hour: number) => new Date(2024, 4, day, hour).getTime();

  it('shows one line per day, with its lowest score, once there are many samples, and the days without any', () => {
    const samples = [];
    for (let hour = 0; hour < 24; hour++) samples.push({ at: at(1, hour), score: hour === 13 ? 55 : 90, platforms: { lx: hour === 13 ? 10 : 100 } });
    for (let hour = 0; hour < 24; hour++) samples.push({ at: at(3, hour), score: 100, platforms: { lx: 100 } });
    samples.push({ at: at(3, 23) + 1_800_000, score: 100, platforms: { lx: 100 } }); // 49: past one line per sample
    expect(formatHealthHistory({ samples })).toBe(
      'farm health, one line per day (its lowest score):\n' +
        '2024-05-01  ###########.........   55  lx 10\n' +
        '2024-05-02  (no samples)\n' +
        '2024-05-03  ####################  100  lx 100\n',
    );
  });

  it('says when nothing was recorded yet', () => {
    expect(formatHealthHistory({ samples: [] })).toMatch(/^no health samples yet/);
  });

  it('draws a score as twenty marks, clamped', () => {
    expect([scoreBar(0), scoreBar(49), scoreBar(100), scoreBar(130)]).toEqual(['.'.repeat(20), '##########..........', '#'.repeat(20), '#'.repeat(20)]);
  });
});
