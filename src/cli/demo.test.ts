import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import type { BuildJson } from '../master/api/schemas.js';
import { checkoutCommand } from '../master/checkout/script.js';
import { parseConfig } from '../master/config/load.js';
import { checkoutTarget } from '../master/scheduling/checkout-target.js';
import { renderStep } from '../master/scheduling/interpolate.js';
import { DEMO_AUTHOR, DEMO_SOURCE, ensureDemoRepository } from './demo-repository.js';
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

/**
 * An environment in which git has no configuration at all, so no identity:
 * the demo must work on such a machine, and the developer's own settings
 * (commit signing, hooks) stay out of the tests.
 */
function bareGitEnv(): NodeJS.ProcessEnv {
  const home = tempDir();
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, XDG_CONFIG_HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(home, 'gitconfig') };
  for (const name of Object.keys(env)) {
    if (/^GIT_(AUTHOR|COMMITTER)_|^GIT_(DIR|WORK_TREE|INDEX_FILE)$/.test(name)) delete env[name];
  }
  return env;
}

function git(cwd: string, env: NodeJS.ProcessEnv, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8' }).trim();
}

/** The files of examples/hello-c, without what building it there would leave. */
function exampleFiles(): string[] {
  return readdirSync(exampleDir)
    .filter((f) => !['config.mk', 'hello', 'test_hello'].includes(f) && !f.endsWith('.o'))
    .sort();
}

describe('the demo repository', () => {
  it('is examples/hello-c as one commit on main by the demo identity, where git has no identity of its own', async () => {
    const dir = tempDir();
    const env = bareGitEnv();
    const repo = await ensureDemoRepository({ dir, exampleDir, env });
    expect(repo).toEqual({ bare: join(dir, 'hello-c.git'), clone: join(dir, 'hello-c'), created: true });

    const demo = `${DEMO_AUTHOR.name} <${DEMO_AUTHOR.email}>`;
    expect(git(repo.clone, env, 'log', '--format=%an <%ae>|%cn <%ce>')).toBe(`${demo}|${demo}`);
    expect(git(repo.clone, env, 'symbolic-ref', '--short', 'HEAD')).toBe('main');
    expect(git(repo.clone, env, 'rev-parse', '--abbrev-ref', 'main@{upstream}')).toBe('origin/main');
    expect(git(repo.bare, env, 'rev-parse', 'refs/heads/main')).toBe(git(repo.clone, env, 'rev-parse', 'HEAD'));
    expect(git(repo.bare, env, 'symbolic-ref', 'HEAD')).toBe('refs/heads/main');
    const tree = git(repo.clone, env, 'ls-tree', 'HEAD').split('\n').map((line) => line.split(/\s+/));
    expect(tree.map((entry) => entry[3]).sort()).toEqual(exampleFiles());
    expect(tree.find((entry) => entry[3] === 'configure')?.[0]).toBe('100755');
    // Without an identity of the user's, commits in the clone get the demo's.
    expect(git(repo.clone, env, 'config', '--local', 'user.email')).toBe(DEMO_AUTHOR.email);
    expect(readdirSync(dir).sort()).toEqual(['hello-c', 'hello-c.git']);
  });

  it("keeps an earlier run's repository and the commits made in it", async () => {
    const dir = tempDir();
    const env = bareGitEnv();
    const first = await ensureDemoRepository({ dir, exampleDir, env });
    appendFileSync(join(first.clone, 'hello.c'), '/* mine */\n');
    git(first.clone, env, 'commit', '--quiet', '-am', 'Mine');
    git(first.clone, env, 'push', '--quiet');
    const mine = git(first.clone, env, 'rev-parse', 'HEAD');

    expect(await ensureDemoRepository({ dir, exampleDir, env })).toEqual({ ...first, created: false });
    expect(git(first.bare, env, 'rev-parse', 'refs/heads/main')).toBe(mine);

    // A clone removed by hand is cloned again, with the commits pushed before.
    rmSync(first.clone, { recursive: true });
    expect(await ensureDemoRepository({ dir, exampleDir, env })).toEqual(first);
    expect(git(first.clone, env, 'rev-parse', 'HEAD')).toBe(mine);
    expect(git(first.clone, env, 'rev-parse', '--abbrev-ref', 'main@{upstream}')).toBe('origin/main');
  });

  it('refuses a clone whose repository is gone, rather than guess', async () => {
    const dir = tempDir();
    const env = bareGitEnv();
    const first = await ensureDemoRepository({ dir, exampleDir, env });
    rmSync(first.bare, { recursive: true });
    await expect(ensureDemoRepository({ dir, exampleDir, env })).rejects.toThrow(/hello-c\.git.*does not/);
  });
});

describe('the demo config', () => {
  const repository = '/srv/demo/hello-c.git';
  const config = parseConfig(parse(renderDemoConfig({ listen: '127.0.0.1:0', repository })), 'shepherd.yml', '/srv/demo');

  it('is valid and describes the farm', () => {
    expect(config.master.listen).toBe('127.0.0.1:0');
    expect(config.master.database).toBe('sqlite:/srv/demo/shepherd.sqlite');
    expect(config.master.data_dir).toBe('/srv/demo/data');
    expect(config.workers.map((w) => [w.name, w.max_builds])).toEqual(DEMO_WORKERS.map((w) => [w.name, w.maxBuilds]));
    expect(config.builders.map((b) => b.name)).toEqual(DEMO_BUILDERS.map((b) => b.name));
  });

  it('follows the demo repository and builds every commit, forced builds and try patches on both builders', () => {
    expect(config.changes).toMatchObject([{ name: DEMO_SOURCE, git: repository, branches: ['main'], poll: 5_000 }]);
    const builders = DEMO_BUILDERS.map((b) => b.name);
    expect(config.schedulers.map((s) => [s.name, s.builders])).toEqual([
      ['on-commit', builders],
      ['force', builders],
      ['try', builders],
    ]);
    const [onCommit, force, tryScheduler] = config.schedulers;
    expect(onCommit!.on_change).toMatchObject({ changes: DEMO_SOURCE, ignore: ['*.md'] });
    expect(force!.force?.params).toMatchObject({ verbose: { type: 'boolean', default: false } });
    expect(tryScheduler!.try).toMatchObject({ changes: DEMO_SOURCE });
    for (const builder of config.builders) {
      expect(builder.steps[0]).toMatchObject({ name: 'checkout', checkout: { source: DEMO_SOURCE, mode: 'incremental' }, workdir: 'src' });
      expect(builder.steps.slice(1).every((step) => step.checkout === undefined && step.workdir === 'src')).toBe(true);
    }
  });

  // The steps run here as the agent would run them (sh -c in the step's
  // directory, the checkout as the master generates it), so a broken example,
  // repository or step is caught without a master.
  it('checks out, builds and tests the demo repository with each builder', async () => {
    const dir = tempDir();
    const repo = await ensureDemoRepository({ dir, exampleDir, env: bareGitEnv() });
    const real = parseConfig(parse(renderDemoConfig({ listen: '127.0.0.1:0', repository: repo.bare })), 'shepherd.yml', dir);
    const source = real.changes[0]!;
    const head = git(repo.bare, process.env, 'rev-parse', 'refs/heads/main');
    const workerDir = tempDir();
    for (const [b, builder] of real.builders.entries()) {
      // The first builder runs as if forced with verbose=true, the second as a commit's build.
      const verbose = b === 0 ? 'true' : builder.properties.verbose!;
      const properties = { ...builder.properties, verbose, builder: builder.name, buildnumber: '1', worker: 'demo-1' };
      const builderDir = join(workerDir, builder.name);
      const outputs: string[] = [];
      for (const [s, step] of builder.steps.entries()) {
        const stepDir = join(workerDir, '.steps', builder.name, String(s));
        mkdirSync(stepDir, { recursive: true });
        const generated = step.checkout ? checkoutCommand(checkoutTarget(step.checkout, source, properties)).run : undefined;
        const rendered = renderStep(step, properties, generated);
        expect(typeof rendered.run).toBe('string');
        const cwd = join(builderDir, rendered.workdir);
        mkdirSync(cwd, { recursive: true });
        const run = spawnSync('/bin/sh', ['-c', rendered.run as string], {
          cwd,
          env: { ...process.env, ...rendered.env, SHEPHERD_STEP_DIR: stepDir },
          encoding: 'utf8',
        });
        expect(run.status, `${builder.name} step ${step.name} failed:\n${run.stdout}${run.stderr}`).toBe(0);
        outputs.push(run.stdout);
        if (step.checkout) expect(readFileSync(join(stepDir, 'properties'), 'utf8')).toBe(`got_revision=${head}\n`);
      }
      expect(outputs.join('')).toMatch(/^ok 6 - /m);
      // verbose=true shows the configuration ./configure wrote.
      expect(/^CFLAGS = /m.test(outputs[1]!), outputs[1]).toBe(verbose === 'true');
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

  /** Starts `shepherd demo --dir DIR` from dist/ on a free port; `output()` is everything it printed so far. */
  function startDemo(dir: string, env: NodeJS.ProcessEnv = process.env) {
    const main = join(root, 'dist', 'src', 'cli', 'main.js');
    expect(existsSync(main), `${main} is missing: run \`npm run build\` first`).toBe(true);
    const child = spawn(process.execPath, [main, 'demo', '--dir', dir, '--port', '0'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo = child;
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
      child.once('exit', (code, signal) => done({ code, signal })),
    );
    return { child, exit, output: () => output };
  }

  const finished = (name: string) => new RegExp(`^${name} #\\d+ finished: (\\w+)`, 'm');

  /** Waits for the forced build of every builder and the "next steps" text after them. */
  async function firstBuilds(child: ChildProcess, output: () => string): Promise<void> {
    await waitForOutput(
      child,
      () => DEMO_BUILDERS.every((b) => finished(b.name).test(output())) && /^All demo builds finished/m.test(output()),
      45_000,
      () => `the demo builds did not finish; output so far:\n${output()}`,
    );
    for (const builder of DEMO_BUILDERS) {
      expect(finished(builder.name).exec(output())?.[1], output()).toBe('SUCCESS');
    }
  }

  /** SIGINT, then a clean exit within 15 s. */
  async function stopDemo(child: ChildProcess, exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>, output: () => string) {
    const stoppedAt = Date.now();
    child.kill('SIGINT');
    const result = await withTimeout(exit, 15_000, () => `the demo did not exit after SIGINT; output:\n${output()}`);
    expect(result, output()).toEqual({ code: 0, signal: null });
    expect(Date.now() - stoppedAt).toBeLessThan(15_000);
    expect(output()).toMatch(/^stopped\.$/m);
  }

  it('builds every demo builder, then stops cleanly on SIGINT', async () => {
    const dir = tempDir();
    const { child, exit, output } = startDemo(dir);
    await firstBuilds(child, output);
    expect(output()).toMatch(/^ {2}web UI {3}http:\/\/127\.0\.0\.1:\d+\//m);
    expect(output()).toMatch(/^ {2}master {3}http:\/\/127\.0\.0\.1:\d+/m);
    expect(output()).toMatch(/npx shepherd builds --master http:\/\/127\.0\.0\.1:\d+/);
    expect(output()).toMatch(/npx shepherd changes --master http:\/\/127\.0\.0\.1:\d+/);
    expect(output()).toMatch(/shepherd try --builder hello-debug --wait --master http:\/\/127\.0\.0\.1:\d+/);
    expect(output()).toMatch(/--scheduler force --param verbose=true/);
    await stopDemo(child, exit, output);
  });

  it('builds a commit pushed from the clone on every builder, with the commit as its blamelist', async () => {
    const dir = tempDir();
    // A machine where git knows nobody: the demo's clone must still take commits.
    const env = bareGitEnv();
    const { child, exit, output } = startDemo(dir, env);
    await firstBuilds(child, output);
    const url = /^ {2}master {3}(http:\/\/\S+)/m.exec(output())![1]!;
    const token = readFileSync(join(dir, 'api-token'), 'utf8').trim();

    const clone = join(dir, 'hello-c');
    appendFileSync(join(clone, 'hello.c'), '/* a change pushed by the demo test */\n');
    git(clone, env, 'commit', '--quiet', '-am', 'Change hello.c');
    git(clone, env, 'push', '--quiet');
    const revision = git(clone, env, 'rev-parse', 'HEAD');
    // Poll now instead of waiting for the 5 s timer (which may get there first: then this finds nothing new).
    const poll = await fetch(`${url}/api/v1/sources/${DEMO_SOURCE}/poll`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(poll.status, await poll.clone().text()).toBe(200);

    // The demo reports every build as it finishes, with the revision it checked out.
    const ofCommit = (name: string) => new RegExp(`^${name} #(\\d+) finished: (\\w+) .* at ${revision.slice(0, 10)}`, 'm');
    await waitForOutput(
      child,
      () => DEMO_BUILDERS.every((b) => ofCommit(b.name).test(output())),
      45_000,
      () => `no build of ${revision} finished; output so far:\n${output()}`,
    );
    for (const builder of DEMO_BUILDERS) {
      expect(ofCommit(builder.name).exec(output())?.[2], output()).toBe('SUCCESS');
      const listed = await fetch(`${url}/api/v1/builds?builder=${builder.name}`);
      const { builds } = (await listed.json()) as { builds: BuildJson[] };
      const build = builds.find((b) => b.revision === revision);
      expect(build, JSON.stringify(builds)).toMatchObject({ state: 'finished', result: 'SUCCESS' });
      expect(build!.properties).toMatchObject({ scheduler: 'on-commit', source: DEMO_SOURCE, branch: 'main' });
      const detail = (await (await fetch(`${url}/api/v1/builds/${build!.id}`)).json()) as { blamelist: { revision: string; author: string }[] };
      expect(detail.blamelist.map((c) => [c.revision, c.author])).toEqual([[revision, `${DEMO_AUTHOR.name} <${DEMO_AUTHOR.email}>`]]);
    }
    await stopDemo(child, exit, output);
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
