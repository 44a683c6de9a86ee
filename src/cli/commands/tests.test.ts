/**
 * `shepherd tests` and `shepherd test-history` against a real master over
 * HTTP, with results stored by the real TestResultsService. The commands are
 * registered on a program of their own until `program.ts` registers them.
 */
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHttpServer } from '../../master/api/server.js';
import { createTestControl, type TestControl } from '../../master/api/test-control.js';
import type { StepConfig } from '../../master/config/schema.js';
import type { Result } from '../../master/domain.js';
import { TestResultsService } from '../../master/tests/test-results-service.js';
import { describeFailure } from '../errors.js';
import { registerTestHistoryCommand } from './test-history.js';
import { registerTestsCommand } from './tests.js';

const CONFIG = {
  workers: [
    { name: 'z-1', secret_env: 'W1', dimensions: { os: 'linux', arch: 's390x' } },
    { name: 'x-1', secret_env: 'W2', dimensions: { os: 'linux', arch: 'x86_64' } },
  ],
  builders: [{ name: 'unix', workers: { os: 'linux' }, steps: [{ name: 'test', run: 'make check', test_results: { parse: 'pytest' } }] }],
};

let control: TestControl;
let app: FastifyInstance;
let master: string[];
let failing: number;
let out: string[];

async function run(worker: string, log: string, result: Result): Promise<number> {
  const request = await control.store.enqueueRequest({ builder: 'unix', priority: 0, properties: {}, reason: 'r', submittedBy: null, submittedAt: Date.now() });
  const started = (await control.store.startBuild({ requestId: request.id, builder: 'unix', worker, properties: { got_revision: 'a1b2c3d4e5f60718' }, steps: ['test'], startedAt: Date.now() }))!;
  await new TestResultsService({ store: control.store, config: control.config, clock: { now: () => Date.now() } }).afterStep({
    build: started.build,
    step: started.steps[0]!,
    stepConfig: control.config.builders[0]!.steps[0] as StepConfig,
    workerDimensions: CONFIG.workers.find((w) => w.name === worker)!.dimensions,
    processResult: result,
    summary: result === 'FAILURE' ? 'exit code 1' : null,
    readLog: async function* () {
      yield Buffer.from(log);
    },
    junitFiles: async () => [],
  });
  return started.build.id;
}

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
  await app.listen({ host: '127.0.0.1', port: 0 });
  master = ['--master', `http://127.0.0.1:${(app.server.address() as { port: number }).port}`];
  const log = (endian: string) =>
    `t.py::test_ok PASSED\nt.py::test_endian ${endian}\nt.py::test_skip SKIPPED (no net)\n` +
    (endian === 'FAILED' ? "FAILED t.py::test_endian - assert b'\\x01\\x00' == b'\\x00\\x01'\n" : '');
  failing = await run('z-1', log('FAILED'), 'FAILURE');
  await run('x-1', log('PASSED'), 'SUCCESS');
});
afterAll(async () => {
  await app.close();
  await control.close();
});

beforeEach(() => {
  out = [];
  vi.restoreAllMocks();
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
});

/** Runs `shepherd ARGS` with only these commands; the stderr lines it would print, if it failed. */
async function shepherd(...args: string[]): Promise<string[]> {
  const program = new Command('shepherd').exitOverride();
  registerTestsCommand(program);
  registerTestHistoryCommand(program);
  try {
    await program.parseAsync(['node', 'shepherd', ...args]);
    return [];
  } catch (error) {
    return describeFailure(error).lines;
  }
}

describe('shepherd tests', () => {
  it('prints the count line and each failure with the end of its message', async () => {
    expect(await shepherd('tests', String(failing), ...master)).toEqual([]);
    expect(out.join('')).toBe(`build ${failing}: 1 failed of 3 (1 skipped)\n\nFAILED t.py::test_endian\n    assert b'\\x01\\x00' == b'\\x00\\x01'\n`);
  });

  it('--all lists every test; --json prints the document', async () => {
    await shepherd('tests', String(failing), '--all', ...master);
    expect(out.join('')).toMatch(/RESULT\s+TEST\s+TIME\n.*failed\s+t\.py::test_endian[\s\S]*skipped\s+t\.py::test_skip[\s\S]*passed\s+t\.py::test_ok/);
    out = [];
    await shepherd('tests', String(failing), '--json', ...master);
    expect(JSON.parse(out.join(''))).toMatchObject({ summary: '1 failed of 3', tests: [{ name: 't.py::test_endian' }] });
  });

  it('says what went wrong in one line', async () => {
    expect(await shepherd('tests', '999', ...master)).toEqual(['shepherd: no build with id 999 (SHEPHERD_E_NOT_FOUND)']);
  });
});

describe('shepherd test-history', () => {
  it('lists the runs and names the separating dimension', async () => {
    await shepherd('test-history', 't.py::test_endian', ...master);
    const text = out.join('');
    expect(text).toMatch(/^t\.py::test_endian\nBUILD\s+BUILDER\s+WORKER\s+PLATFORM\s+REVISION\s+RESULT\s+WHEN\n/);
    expect(text).toMatch(/unix\s+x-1\s+arch=x86_64 os=linux\s+a1b2c3d4\s+passed/);
    expect(text).toMatch(/unix\s+z-1\s+arch=s390x os=linux\s+a1b2c3d4\s+failed/);
    expect(text).toContain('\nfails only where arch=s390x (at a1b2c3d4: failed on z-1, passed on x-1)\n');
    out = [];
    await shepherd('test-history', 't.py::test_endian', '--builder', 'other', '--json', ...master);
    expect(JSON.parse(out.join(''))).toEqual({ name: 't.py::test_endian', runs: [], next: null, separation: null });
  });
});
