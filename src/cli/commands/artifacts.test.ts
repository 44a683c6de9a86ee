/**
 * `shepherd artifacts` and the artifact routes against a real master: the
 * test control's coordinator runs a build, files arrive through the real
 * upload sink, and the CLI lists and downloads them over HTTP.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../master/api/server.js';
import { createTestControl, type TestControl } from '../../master/api/test-control.js';
import type { Step } from '../../master/domain.js';
import { UploadSink } from '../../master/files/upload-sink.js';
import { captureCli } from '../capture-cli.js';
import { describeFailure, EXIT } from '../errors.js';
import { registerArtifactsCommand } from './artifacts.js';

const dataDir = mkdtempSync(join(tmpdir(), 'shepherd-artifacts-'));
const CONFIG = {
  master: { data_dir: dataDir },
  workers: [{ name: 'w1', secret_env: 'W1' }],
  builders: [{ name: 'b', workers: ['w1'], steps: [{ name: 'make', run: 'make' }, { name: 'test', run: 'make check' }] }],
};
const core = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3, 255]);

let control: TestControl;
let app: FastifyInstance;
let base: string;
let buildId: number;
let steps: Step[];

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close(), webRoot: null });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const started = await control.startBuild('b', 'w1');
  buildId = started.build.id;
  steps = started.steps;
  const sink = new UploadSink({ store: control.store, dataDir, clock: control.clock, logger: pino({ level: 'silent' }), maxFileBytes: 1e6, maxBuildBytes: 1e6 });
  const receiver = sink.receiver('w1', (error) => {
    throw error;
  });
  const stepId = steps[0]!.id;
  const send = (id: number, name: string, data: Buffer, kind: 'artifact' | 'test_results' = 'artifact') => {
    receiver.begin({ type: 'upload_begin', step_id: stepId, upload_id: id, kind, name, size: data.length });
    receiver.data({ kind: 'upload', upload_id: id, offset: 0 }, data);
    receiver.end({ type: 'upload_end', step_id: stepId, upload_id: id });
  };
  send(1, 'build/core.1234', core);
  send(2, 'config.log', Buffer.from('checking for cc... cc\n'));
  send(3, 'config.log', Buffer.from('<testsuite/>'), 'test_results');
  send(4, 'naïve name.txt', Buffer.from('é'));
  receiver.skipped({ type: 'upload_skipped', step_id: stepId, kind: 'artifact', name: 'vmcore', size: 3 * 1024 ** 3, reason: 'larger than the limit of 100 MiB per file' });
  await sink.settled(stepId);
});
afterAll(async () => {
  await app.close();
  await control.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const { out, err, clearOut, clearErr } = captureCli();

/** Runs `shepherd artifacts ...` in-process (the command is registered on a program of its own). */
async function artifacts(...args: string[]): Promise<number> {
  const program = new Command('shepherd').exitOverride().configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerArtifactsCommand(program);
  try {
    await program.parseAsync(['node', 'shepherd', 'artifacts', ...args, '--master', base]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return EXIT.usage;
    const { lines, exitCode } = describeFailure(error);
    for (const line of lines) process.stderr.write(`${line}\n`);
    return exitCode;
  }
}

describe('GET /api/v1/builds/:id/artifacts', () => {
  it('lists stored and skipped files with their steps and download URLs', async () => {
    const list = await (await fetch(`${base}/api/v1/builds/${buildId}/artifacts`)).json();
    const stepOf = { id: steps[0]!.id, index: 0, name: 'make' };
    expect(list).toEqual({
      build_id: buildId,
      artifacts: [
        { id: expect.any(Number), name: 'build/core.1234', kind: 'artifact', step: stepOf, size: 9, skipped: null, created_at: expect.any(Number), url: `/api/v1/builds/${buildId}/artifacts/build/core.1234` },
        expect.objectContaining({ name: 'config.log', kind: 'artifact', url: `/api/v1/builds/${buildId}/artifacts/config.log?step=make&kind=artifact` }),
        expect.objectContaining({ name: 'config.log', kind: 'test_results', url: `/api/v1/builds/${buildId}/artifacts/config.log?step=make&kind=test_results` }),
        expect.objectContaining({ name: 'naïve name.txt', url: `/api/v1/builds/${buildId}/artifacts/na%C3%AFve%20name.txt` }),
        expect.objectContaining({ name: 'vmcore', size: 3 * 1024 ** 3, skipped: 'larger than the limit of 100 MiB per file', url: null }),
      ],
    });
    const tests = (await (await fetch(`${base}/api/v1/builds/${buildId}/artifacts?kind=test_results`)).json()) as { artifacts: { name: string }[] };
    expect(tests.artifacts.map((a) => a.name)).toEqual(['config.log']);
  });

  it('downloads a file as an attachment with its exact length', async () => {
    const response = await fetch(`${base}/api/v1/builds/${buildId}/artifacts/build/core.1234`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('9');
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="core.1234"; filename*=UTF-8''core.1234`);
    expect(Buffer.from(await response.arrayBuffer()).equals(core)).toBe(true);
    const odd = await fetch(`${base}/api/v1/builds/${buildId}/artifacts/na%C3%AFve%20name.txt`);
    expect(odd.headers.get('content-disposition')).toBe(`attachment; filename="na_ve name.txt"; filename*=UTF-8''na%C3%AFve%20name.txt`);
  });

  it('answers 404 naming what is missing, and 409 for an ambiguous name', async () => {
    const reply = async (path: string) => {
      const response = await fetch(`${base}/api/v1${path}`);
      return [response.status, ((await response.json()) as { error: { message: string } }).error.message];
    };
    expect(await reply('/builds/999/artifacts')).toEqual([404, 'no build with id 999']);
    expect(await reply(`/builds/${buildId}/artifacts/nope.txt`)).toEqual([404, `build ${buildId} has no file named "nope.txt"; GET /api/v1/builds/${buildId}/artifacts lists them`]);
    expect(await reply(`/builds/${buildId}/artifacts/vmcore`)).toEqual([404, `vmcore of build ${buildId} was not stored: larger than the limit of 100 MiB per file`]);
    expect(await reply(`/builds/${buildId}/artifacts/config.log?step=nope`)).toEqual([404, `build ${buildId} has no step "nope"`]);
    expect(await reply(`/builds/${buildId}/artifacts/config.log`)).toEqual([409, `build ${buildId} has 2 files named "config.log": add step=make&kind=artifact or step=make&kind=test_results`]);
  });
});

describe('shepherd artifacts', () => {
  it('lists the files as a table', async () => {
    expect(await artifacts(String(buildId))).toBe(0);
    expect(out()).toBe(
      [
        'NAME             STEP    KIND          SIZE   STORED',
        'build/core.1234  0:make  artifact      9 B    yes',
        'config.log       0:make  artifact      22 B   yes',
        'config.log       0:make  test_results  12 B   yes',
        'naïve name.txt   0:make  artifact      2 B    yes',
        'vmcore           0:make  artifact      3 GiB  skipped: larger than the limit of 100 MiB per file',
        '',
      ].join('\n'),
    );
  });

  it('--json prints the API document', async () => {
    expect(await artifacts(String(buildId), '--json')).toBe(0);
    expect(JSON.parse(out()).artifacts).toHaveLength(5);
  });

  it('--get writes a file to stdout, or to -o FILE', async () => {
    expect(await artifacts(String(buildId), '--get', 'build/core.1234')).toBe(0);
    expect(out()).toBe(core.toString());
    clearOut();
    expect(await artifacts(String(buildId), '--get', 'config.log', '--step', 'make')).toBe(1);
    expect(err()).toMatch(/has 2 files named "config\.log": add step=make&kind=artifact or step=make&kind=test_results/);
    clearErr();
    expect(await artifacts(String(buildId), '--get', 'config.log', '--step', '0', '--kind', 'test_results')).toBe(0);
    expect(out()).toBe('<testsuite/>');
    const file = join(dataDir, 'downloaded');
    expect(await artifacts(String(buildId), '--get', 'naïve name.txt', '-o', file)).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('é');
    expect(err()).toBe(`wrote naïve name.txt (2 B) to ${file}\n`);
  });

  it('fails with the API\'s message for a missing file or build', async () => {
    expect(await artifacts(String(buildId), '--get', 'nope.txt')).toBe(1);
    expect(err()).toBe(`shepherd: build ${buildId} has no file named "nope.txt"; GET /api/v1/builds/${buildId}/artifacts lists them (SHEPHERD_E_NOT_FOUND)\n`);
    expect(await artifacts('999')).toBe(1);
    expect(err()).toMatch(/no build with id 999 \(SHEPHERD_E_NOT_FOUND\)\n$/);
    expect(await artifacts(String(buildId), '-o', 'x')).toBe(2);
  });
});
