/**
 * `shepherd worker pause|resume|set-contact|maintenance` against a real
 * master, with the worker's own secret (no API token): what a volunteer
 * admin runs; and `worker retire`, the operator's.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHttpServer } from '../../master/api/server.js';
import { TEST_TOKEN, TEST_WORKER_SECRETS, createTestControl, type TestControl } from '../../master/api/test-control.js';
import { runCli } from '../run-cli.js';

let control: TestControl;
let app: FastifyInstance;
let client: string[];
let stdout: string[];
let stderr: string[];

beforeAll(async () => {
  control = await createTestControl();
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
  await app.listen({ host: '127.0.0.1', port: 0 });
  client = ['--master', `http://127.0.0.1:${(app.server.address() as { port: number }).port}`];
});
afterAll(async () => {
  await app.close();
  await control.close();
});
beforeEach(() => {
  stdout = [];
  stderr = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  });
  process.env.TEST_LINUX_1_SECRET = TEST_WORKER_SECRETS.get('linux-1');
});
afterEach(() => {
  vi.restoreAllMocks();
  delete process.env.TEST_LINUX_1_SECRET;
});

const shepherd = (...args: string[]) => runCli(['node', 'shepherd', ...args]);

describe('shepherd worker pause|resume|set-contact', () => {
  it("pauses and resumes a worker with the worker's own secret", async () => {
    expect(await shepherd('worker', 'pause', 'linux-1', '--secret-env', 'TEST_LINUX_1_SECRET', '--reason', 'new disk', ...client)).toBe(0);
    expect(stdout.join('')).toBe('linux-1: paused\n');
    expect(stderr.join('')).toContain('paused linux-1');
    stdout = [];
    expect(await shepherd('worker', 'resume', 'linux-1', '--secret-env', 'TEST_LINUX_1_SECRET', '--json', ...client)).toBe(0);
    expect(JSON.parse(stdout.join(''))).toMatchObject({ name: 'linux-1', paused: null, state: 'offline' });
  });

  it('sets the contact, and says what is wrong in one line', async () => {
    expect(await shepherd('worker', 'set-contact', 'linux-1', '--secret-env', 'TEST_LINUX_1_SECRET', '--contact', 'Ada <ada@example.org>', '--json', ...client)).toBe(0);
    expect(JSON.parse(stdout.join('')).admins).toEqual(['Ada <ada@example.org>']);
    expect(await shepherd('worker', 'set-contact', 'linux-1', '--secret-env', 'TEST_LINUX_1_SECRET', ...client)).toBe(2);
    expect(stderr.join('')).toMatch(/give --contact or --notes/);
    stderr = [];
    expect(await shepherd('worker', 'pause', 'mac-1', '--secret-env', 'TEST_LINUX_1_SECRET', ...client)).toBe(1);
    expect(stderr.join('')).toMatch(/worker's own secret/);
  });
});

describe('shepherd worker maintenance', () => {
  it("sets the windows with the worker's own secret, prints them, and clears them", async () => {
    const set = ['worker', 'maintenance', 'linux-1', '--secret-env', 'TEST_LINUX_1_SECRET', ...client];
    expect(await shepherd(...set, '--window', '0 2 * * 0/3h', '--window', '30 22 * * 1-5/90m')).toBe(0);
    expect(stdout.join('')).toBe(
      'linux-1: maintenance windows (cron in UTC / duration):\n' +
        '  0 2 * * 0/3h  (set by its admin)\n' +
        '  30 22 * * 1-5/90m  (set by its admin)\n',
    );
    stdout = [];
    expect(await shepherd(...set, '--clear', '--json')).toBe(0);
    expect(JSON.parse(stdout.join('')).maintenance).toEqual([]);
  });

  it('names the flag of a malformed window (exit 2), and passes on what the master refuses (exit 1)', async () => {
    const set = ['worker', 'maintenance', 'linux-1', '--secret-env', 'TEST_LINUX_1_SECRET', ...client];
    expect(await shepherd(...set, '--window', '0 2 * * 0')).toBe(2);
    expect(stderr.join('')).toMatch(/option '--window <cron\/duration>' argument '0 2 \* \* 0' is invalid/);
    stderr = [];
    expect(await shepherd(...set)).toBe(2);
    expect(stderr.join('')).toMatch(/give --window "CRON\/DURATION" \(repeatable\) or --clear/);
    stderr = [];
    expect(await shepherd(...set, '--window', '0 25 * * 0/1h')).toBe(1);
    expect(stderr.join('')).toMatch(/^shepherd: windows\[0\]\.cron: invalid cron "0 25 \* \* 0".*\(SHEPHERD_E_VALIDATION\)\n$/);
  });
});

describe('shepherd worker retire', () => {
  // Retiring a registered worker, and the refusals while it builds: test/join-e2e.test.ts.
  it("needs the API token, not the worker's secret, and reports a refusal in one line", async () => {
    process.env.SHEPHERD_WORKER_SECRET = TEST_WORKER_SECRETS.get('linux-1');
    try {
      expect(await shepherd('worker', 'retire', 'linux-1', ...client)).toBe(1);
    } finally {
      delete process.env.SHEPHERD_WORKER_SECRET;
    }
    expect(stderr.join('')).toMatch(/SHEPHERD_E_UNAUTHORIZED/);
    stderr = [];
    expect(await shepherd('worker', 'retire', 'linux-1', '--token', TEST_TOKEN, ...client)).toBe(1);
    expect(stderr.join('')).toMatch(/^shepherd: [^\n]*\(SHEPHERD_E_[A-Z_]+\)\n$/);
  });
});
