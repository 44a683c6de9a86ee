import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../master/config/load.js';
import { renderStep } from '../master/scheduling/interpolate.js';
import { DEMO_BUILDERS, DEMO_WORKERS, renderDemoConfig } from './demo.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const exampleDir = join(root, 'examples', 'hello-c');

const temps: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shepherd-demo-'));
  temps.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the demo config', () => {
  const config = parseConfig(parse(renderDemoConfig({ listen: '127.0.0.1:0', exampleDir })), 'shepherd.yml', '/srv/demo');

  it('is valid and describes the farm', () => {
    expect(config.master.listen).toBe('127.0.0.1:0');
    expect(config.master.database).toBe('sqlite:/srv/demo/shepherd.sqlite');
    expect(config.master.data_dir).toBe('/srv/demo/data');
    expect(config.workers.map((w) => [w.name, w.max_builds])).toEqual(DEMO_WORKERS.map((w) => [w.name, w.maxBuilds]));
    expect(config.builders.map((b) => b.name)).toEqual(DEMO_BUILDERS.map((b) => b.name));
  });

  // The steps run here as the agent would run them (sh -c in the builder's
  // directory), so a broken example or step is caught without a master.
  it('builds and tests examples/hello-c with each builder', () => {
    const workerDir = tempDir();
    for (const builder of config.builders) {
      const properties = { ...builder.properties, builder: builder.name, buildnumber: '1', worker: 'demo-1' };
      const builderDir = join(workerDir, builder.name);
      mkdirSync(builderDir);
      const outputs: string[] = [];
      for (const step of builder.steps) {
        const rendered = renderStep(step, properties);
        expect(typeof rendered.run).toBe('string');
        const run = spawnSync('/bin/sh', ['-c', rendered.run as string], {
          cwd: join(builderDir, rendered.workdir),
          env: { ...process.env, ...rendered.env },
          encoding: 'utf8',
        });
        expect(run.status, `${builder.name} step ${step.name} failed:\n${run.stdout}${run.stderr}`).toBe(0);
        outputs.push(run.stdout);
      }
      expect(outputs.join('')).toMatch(/^ok 6 - /m);
      // `make clean` ran last: no build output is left but the configuration.
      expect(readdirSync(join(builderDir, 'src')).filter((f) => f.endsWith('.o') || f === 'hello' || f === 'test_hello')).toEqual([]);
    }
  });
});

describe('shepherd demo', () => {
  let demo: ChildProcess | undefined;

  afterEach(async () => {
    if (demo && demo.exitCode === null && demo.signalCode === null) {
      const exited = new Promise((done) => demo!.once('exit', done));
      demo.kill('SIGTERM');
      await exited;
    }
    demo = undefined;
  });

  it('builds every demo builder, then stops cleanly on SIGINT', async () => {
    const main = join(root, 'dist', 'src', 'cli', 'main.js');
    expect(existsSync(main), `${main} is missing: run \`npm run build\` first`).toBe(true);
    const dir = tempDir();
    demo = spawn(process.execPath, [main, 'demo', '--dir', dir, '--port', '0'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    demo.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      demo!.once('exit', (code, signal) => done({ code, signal })),
    );

    const finished = (name: string) => new RegExp(`^${name} #\\d+ finished: (\\w+)`, 'm');
    await waitForOutput(
      demo,
      () => DEMO_BUILDERS.every((b) => finished(b.name).test(output)) && /^All demo builds finished/m.test(output),
      45_000,
      () => `the demo builds did not finish; output so far:\n${output}`,
    );
    for (const builder of DEMO_BUILDERS) {
      expect(finished(builder.name).exec(output)?.[1], output).toBe('SUCCESS');
    }
    expect(output).toMatch(/^ {2}master {3}http:\/\/127\.0\.0\.1:\d+/m);
    expect(output).toMatch(/npx shepherd builds --master http:\/\/127\.0\.0\.1:\d+/);

    const stoppedAt = Date.now();
    demo.kill('SIGINT');
    const result = await withTimeout(exit, 15_000, () => `the demo did not exit after SIGINT; output:\n${output}`);
    expect(result, output).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(output).toMatch(/^stopped\.$/m);
  });
});

/** Resolves once `condition` holds, checked on each chunk of output; rejects if the process exits first or on timeout. */
function waitForOutput(child: ChildProcess, condition: () => boolean, timeoutMs: number, explain: () => string): Promise<void> {
  return new Promise((resolveWait, reject) => {
    const check = () => {
      if (!condition()) return;
      cleanup();
      resolveWait();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`the demo exited early (code ${code}, signal ${signal}); ${explain()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(explain()));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.stderr!.off('data', check);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', onExit);
    check();
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, explain: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(explain())), ms))),
  ]);
}
