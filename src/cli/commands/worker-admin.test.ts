/**
 * `shepherd worker pause|resume|set-contact` against a real master, with the
 * worker's own secret (no API token): what a volunteer admin runs.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHttpServer } from '../../master/api/server.js';
import { TEST_WORKER_SECRETS, createTestControl, type TestControl } from '../../master/api/test-control.js';
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
