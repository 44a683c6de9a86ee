/**
 * Debugging failures in the web UI, in a real browser (Debian's Chromium
 * through playwright-core) against a real master and real worker processes
 * (the one-file bundle, each with its own worker.yml):
 *
 * - a build whose step wrote JUnit XML with one failing test and sent back an
 *   artifact shows "1 failed of 2", the failure first with its traceback, and
 *   the artifact with a download link that delivers the file;
 * - the test's page lists its runs, newest first, and another test's page
 *   names the dimension that separates where it fails ("fails only where
 *   arch=s390x");
 * - with the API token, "Debug on open-1" opens a terminal on the worker
 *   whose worker.yml allows debug sessions: typing `pwd` shows the build's
 *   directory, `exit` ends it, and the session is listed with its recording;
 *   on closed-1, which has no debug section, the worker's refusal is shown;
 * - on pipe-1, the bundle copied where `node-pty` cannot be found (as on a
 *   volunteer's machine), the shell runs on pipes: the page says so, echoes
 *   and edits the typed line itself and sends it on Enter.
 *
 * No page logs a console error or a failed request.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE, openPage, overflowsHorizontally, screenshot, useBrowser, visible, expectClean } from './helpers/browser.js';
import {
  ManagedProcess,
  WORKER_BUNDLE,
  runCli,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitForWorkers,
  writeFile,
} from './helpers/farm.js';

/** How long the UI gets to show something that is already in the API (a fetch and a render). */
/** How long a debug session gets to open or answer (the worker starts a shell). */
const SESSION_MS = 20_000;

const CONFIG_LOG = 'checking for gcc... gcc\nconfigure: all good\n';

// Fails the first time it runs in the builder's directory and passes after: two runs of one test at one revision.
const JUNIT_STEP = [
  'n=$(cat runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > runs; mkdir -p out',
  `printf '${CONFIG_LOG.replaceAll('\n', '\\n')}' > out/config.log`,
  'if [ "$n" = 1 ]; then case_body=\'<failure message="expected 2, got 3">Traceback: assert 2 == 3</failure>\'; else case_body=; fi',
  'printf \'<testsuite name="unit" tests="2"><testcase classname="test_math" name="test_add" time="0.01">%s</testcase><testcase classname="test_math" name="test_sub" time="0.02"/></testsuite>\' "$case_body" > out/results.xml',
  '[ "$n" != 1 ]',
].join('\n');

// Passes on open-1 (x86_64), fails on closed-1 (s390x).
const PLATFORM_STEP = 'if [ "${{ props.worker }}" = open-1 ]; then printf "1..1\\nok 1 - test_float\\n"; else printf "1..1\\nnot ok 1 - test_float\\n"; exit 1; fi';

const CONFIG = `
master:
  listen: 127.0.0.1:0
  database: sqlite:./data/shepherd.sqlite
  data_dir: ./data
  api_token_env: SHEPHERD_API_TOKEN
workers:
  - { name: open-1, secret_env: SECRET_OPEN_1, dimensions: { os: linux, arch: x86_64 } }
  - { name: closed-1, secret_env: SECRET_CLOSED_1, dimensions: { os: linux, arch: s390x } }
  - { name: pipe-1, secret_env: SECRET_PIPE_1 }
builders:
  - name: unit
    workers: [open-1]
    steps:
      - name: test
        run: ${JSON.stringify(JUNIT_STEP)}
        test_results: { junit: "out/*.xml" }
        artifacts: [out/config.log]
  - name: closed-builder
    workers: [closed-1]
    steps:
      - { name: prepare, run: "true" }
  - name: pipe-builder
    workers: [pipe-1]
    steps:
      - { name: prepare, run: "mkdir -p out" }
      - { name: inspect, run: "true", workdir: out }
${['open-1', 'closed-1']
  .map((w) => `  - name: float-${w}\n    workers: [${w}]\n    steps:\n      - name: test\n        run: ${JSON.stringify(PLATFORM_STEP)}\n        test_results: { parse: tap }`)
  .join('\n')}
`;

interface Build {
  id: number;
  result: string;
}

const browserHolder = useBrowser();
const token = secret();
let dir: string;
let url: string;
let master: ManagedProcess;
const workers: ManagedProcess[] = [];

async function force(builder: string, revision: string): Promise<Build> {
  const forced = await runCli(['force', builder, '-p', `revision=${revision}`, '--wait', '--json', '--master', url], { SHEPHERD_API_TOKEN: token });
  expect([0, 1], forced.stderr).toContain(forced.code);
  return JSON.parse(forced.stdout) as Build;
}

/** Enters the API token through the header's token box. */
async function enterToken(page: Page, value: string): Promise<void> {
  const banner = page.getByRole('banner');
  await banner.getByRole('button', { name: /enter api token/i }).click();
  await banner.getByLabel('API token').fill(value);
  await banner.getByRole('button', { name: 'Save' }).click();
  await visible(page, 'the token box closed', banner.getByRole('button', { name: /change token/i }));
}

/** A terminal row that is this text alone: pwd's output, not a prompt that shows the directory too. */
function alone(text: string): RegExp {
  return new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/**
 * A terminal row ending with `text`: a command's output in pipe mode, where the
 * shell's next prompt (its stderr, a separate pipe) may be relayed before the
 * output (its stdout) and share the row.
 */
function ending(text: string): RegExp {
  return new RegExp(`${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
}

/** The text of a table's body rows, one string per row. */
async function rowTexts(page: Page, tableClass: string): Promise<string[]> {
  return page.locator(`table.${tableClass} tbody tr`).allInnerTexts();
}

let failing: Build;
let passing: Build;
let closed: Build;
let piped: Build;

/**
 * The worker bundle run from a copy outside the repository: `import('node-pty')`
 * finds no node_modules there, so debug shells run on pipes.
 */
function startPipeWorker(options: { master: string; name: string; secret: string; dir: string; config: string }): ManagedProcess {
  const home = join(options.dir, 'agent');
  mkdirSync(home, { recursive: true });
  const bundle = join(home, 'shepherd-worker.mjs');
  copyFileSync(WORKER_BUNDLE, bundle);
  const child = spawn(
    process.execPath,
    [bundle, '--master', options.master, '--name', options.name, '--secret-env', 'SHEPHERD_TEST_WORKER_SECRET', '--dir', join(options.dir, 'work'), '--config', options.config],
    { cwd: home, env: { ...process.env, SHEPHERD_TEST_WORKER_SECRET: options.secret }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new ManagedProcess(`worker ${options.name}`, child);
}

beforeAll(async () => {
  dir = realpathSync(tempDir('shepherd-ui-debugging-'));
  const secrets = { SECRET_OPEN_1: secret(), SECRET_CLOSED_1: secret(), SECRET_PIPE_1: secret() };
  ({ process: master, url } = await startMasterProcess(writeFile(dir, 'shepherd.yml', CONFIG), { SHEPHERD_API_TOKEN: token, ...secrets }));
  master.shareAcrossTests();
  const allowYml = writeFile(dir, 'open-worker.yml', 'debug: { allow: true, max: 10m, approval: false }\n');
  const denyYml = writeFile(dir, 'closed-worker.yml', 'admin: Victor <victor@example.org>\n');
  const ws = url.replace('http', 'ws');
  workers.push(
    startWorkerProcess({ master: ws, name: 'open-1', secret: secrets.SECRET_OPEN_1, dir: join(dir, 'open-1'), extraArgs: ['--config', allowYml] }).shareAcrossTests(),
    startWorkerProcess({ master: ws, name: 'closed-1', secret: secrets.SECRET_CLOSED_1, dir: join(dir, 'closed-1'), extraArgs: ['--config', denyYml] }).shareAcrossTests(),
    startPipeWorker({ master: ws, name: 'pipe-1', secret: secrets.SECRET_PIPE_1, dir: join(dir, 'pipe-1'), config: allowYml }).shareAcrossTests(),
  );
  await waitForWorkers(url, ['open-1', 'closed-1', 'pipe-1']);
  failing = await force('unit', 'abc123');
  expect(failing.result).toBe('FAILURE');
  passing = await force('unit', 'abc123');
  expect(passing.result).toBe('SUCCESS');
  closed = await force('closed-builder', 'abc123');
  piped = await force('pipe-builder', 'abc123');
  for (const worker of ['open-1', 'closed-1']) await force(`float-${worker}`, 'def456');
}, 120_000);

afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await master?.stop();
});

describe('debugging failures in the browser', () => {
  it('a build shows its failed test first with the traceback, and its artifact downloads', async () => {
    const watched = await openPage(browserHolder.browser, url);
    const { page } = watched;
    const main = page.getByRole('main');
    try {
      await page.goto(`/builds/${failing.id}`);
      const tests = main.getByRole('region', { name: 'Tests' });
      await visible(page, 'the tests summary', tests.getByText('1 failed of 2', { exact: true }));
      const rows = await rowTexts(page, 'tests');
      expect(rows).toHaveLength(2);
      expect(rows[0]).toMatch(/failed[\s\S]*test_math\.test_add[\s\S]*expected 2, got 3/);
      expect(rows[1]).toMatch(/passed[\s\S]*test_math\.test_sub/);
      // The traceback is folded under the message line.
      const traceback = tests.getByText('Traceback: assert 2 == 3');
      expect(await traceback.isVisible()).toBe(false);
      await tests.getByText('traceback', { exact: true }).click();
      await visible(page, 'the traceback', traceback);

      const artifacts = main.getByRole('region', { name: 'Artifacts' });
      const link = artifacts.getByRole('link', { name: 'out/config.log' });
      await visible(page, 'the artifact', link);
      expect(await link.getAttribute('href')).toBe(`/api/v1/builds/${failing.id}/artifacts/out/config.log`);
      expect(await artifacts.locator('tbody tr').first().innerText()).toMatch(/out\/config\.log\s+test\s+\d+ B\s+stored/);
      const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
      expect(download.suggestedFilename()).toBe('config.log');
      expect(readFileSync((await download.path())!, 'utf8')).toBe(CONFIG_LOG);
      await screenshot(page, 'laptop-build-tests');

      // The test's name leads to its history: newest first, both runs flaky (same revision, same worker).
      await tests.getByRole('link', { name: 'test_math.test_add' }).click();
      await visible(page, "the test's heading", main.getByRole('heading', { level: 1, name: 'test_math.test_add' }));
      expect(new URL(page.url()).pathname).toBe('/tests/test_math.test_add');
      await visible(page, 'the history', main.getByRole('region', { name: 'History' }).locator('tbody tr'));
      const runs = await rowTexts(page, 'test-history');
      expect(runs).toHaveLength(2);
      expect(runs[0]).toMatch(new RegExp(`^build ${passing.id}\\b[\\s\\S]*unit\\s+open-1[\\s\\S]*abc123[\\s\\S]*passed\\s+flaky`));
      expect(runs[1]).toMatch(new RegExp(`^build ${failing.id}\\b[\\s\\S]*unit\\s+open-1[\\s\\S]*abc123[\\s\\S]*failed[\\s\\S]*expected 2, got 3[\\s\\S]*flaky`));
      await visible(page, 'the link to the failing build', main.locator(`a[href="/builds/${failing.id}"]`));

      // The separation, reached by ?name= as a link from elsewhere would.
      await page.goto('/tests?name=test_float');
      await visible(page, 'the separation', main.getByText('fails only where arch=s390x', { exact: true }));
      expect(new URL(page.url()).pathname).toBe('/tests/test_float');
      expect(await main.getByRole('region', { name: 'Where it fails' }).innerText()).toMatch(/failed on closed-1;\s+passed on open-1/);
      await screenshot(page, 'laptop-test-history');
      expectClean(watched, 'the build and test pages');
    } finally {
      await watched.close();
    }
  }, 60_000);

  it('the tests, artifacts and a test page fit a phone', async () => {
    const watched = await openPage(browserHolder.browser, url, { viewport: PHONE });
    const { page } = watched;
    const main = page.getByRole('main');
    try {
      await page.goto(`/builds/${failing.id}`);
      await visible(page, 'the tests summary', main.getByText('1 failed of 2', { exact: true }));
      await visible(page, 'the artifact', main.getByRole('link', { name: 'out/config.log' }));
      expect(await overflowsHorizontally(page), 'the build page scrolls sideways on a phone').toBe(false);
      await screenshot(page, 'phone-build-tests');
      await page.goto(`/tests/${encodeURIComponent('test_math.test_add')}`);
      await visible(page, 'the history', main.locator('table.test-history tbody tr'));
      expect(await overflowsHorizontally(page), 'the test page scrolls sideways on a phone').toBe(false);
      await screenshot(page, 'phone-test-history');
      expectClean(watched, 'the phone pages');
    } finally {
      await watched.close();
    }
  }, 60_000);

  it('with the token, a terminal opens on a worker that allows it, and the other worker says why not', async () => {
    const watched = await openPage(browserHolder.browser, url);
    const { page } = watched;
    const main = page.getByRole('main');
    try {
      await page.goto(`/builds/${failing.id}`);
      await visible(page, 'the build', main.getByRole('heading', { level: 1 }));
      expect(await main.getByRole('button', { name: /debug on/i }).count(), 'no debug button without a token').toBe(0);
      await enterToken(page, token);

      await main.getByLabel('Debug as user').fill('ada');
      await main.getByRole('button', { name: 'Debug on open-1' }).click();
      const panel = main.getByRole('region', { name: 'Debug session on open-1' });
      const status = panel.getByRole('log', { name: 'Session status' });
      await visible(page, 'the opened session', status.getByText(/^open in /), SESSION_MS);
      await page.keyboard.type('pwd');
      await page.keyboard.press('Enter');
      const buildDir = join(dir, 'open-1', 'unit');
      await visible(page, "pwd's output", panel.locator('.xterm-rows > div', { hasText: alone(buildDir) }), SESSION_MS);
      await screenshot(page, 'laptop-debug-terminal');
      await page.keyboard.type('exit');
      await page.keyboard.press('Enter');
      await visible(page, 'the exit', status.getByText('exited with status 0', { exact: true }), SESSION_MS);

      // The audit lists it, with the recording (fetched with the token).
      const sessions = main.getByRole('region', { name: 'Debug sessions' });
      await visible(page, 'the session in the audit', sessions.locator('tbody tr', { hasText: 'exited with status 0' }));
      expect(await sessions.locator('tbody tr').first().innerText()).toMatch(/^ada\s/);
      const [recording] = await Promise.all([page.waitForEvent('download'), sessions.getByRole('link', { name: 'recording' }).first().click()]);
      expect(recording.suggestedFilename()).toMatch(/\.cast$/);
      const cast = readFileSync((await recording.path())!, 'utf8').trimEnd().split('\n');
      expect(JSON.parse(cast[0]!)).toMatchObject({ version: 2 });
      expect(cast.slice(1).map((line) => (JSON.parse(line) as [number, string, string])[2]).join('')).toContain(buildDir);

      // closed-1's worker.yml has no debug section: the worker refuses, and says so.
      await page.goto(`/builds/${closed.id}`);
      await main.getByRole('button', { name: 'Debug on closed-1' }).click();
      const refused = main.getByRole('region', { name: 'Debug session on closed-1' });
      await visible(page, 'the refusal', refused.getByText("refused: the worker's admin does not allow debug sessions on closed-1", { exact: true }), SESSION_MS);
      await visible(page, 'the refusal in the audit', main.getByRole('region', { name: 'Debug sessions' }).locator('tbody tr', { hasText: 'refused' }));
      expect(await refused.locator('.debug-term').isVisible(), 'no empty terminal for a refused session').toBe(false);
      await screenshot(page, 'laptop-debug-refused');

      // Pipe mode: nothing on the worker echoes or edits; the page does, and sends the line on Enter.
      await page.goto(`/builds/${piped.id}`);
      await main.getByRole('button', { name: 'Debug on pipe-1' }).click();
      const pipe = main.getByRole('region', { name: 'Debug session on pipe-1' });
      const pipeStatus = pipe.getByRole('log', { name: 'Session status' });
      await visible(page, 'the pipe-mode note', pipeStatus.getByText(/no PTY on this worker \(node-pty not installed\): pipe mode/), SESSION_MS);
      // Typed once the shell's first prompt is shown: typed earlier, the page's echo and the prompt share a row ("pwroot@vm:…# d").
      await visible(page, "the shell's prompt", pipe.locator('.xterm-rows > div', { hasText: /[#$]\s*$/ }), SESSION_MS);
      await page.keyboard.type('pwdd');
      await page.keyboard.press('Backspace');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('Enter');
      const pipeDir = join(dir, 'pipe-1', 'work', 'pipe-builder', 'out');
      await visible(page, "pwd's output on pipes", pipe.locator('.xterm-rows > div', { hasText: ending(pipeDir) }), SESSION_MS);
      // The page echoed the edited line once; the shell's own echo (bash -i on pipes) is not shown again.
      await visible(page, 'the echoed line', pipe.locator('.xterm-rows > div', { hasText: /\bpwd\s*$/ }));
      expect(await pipe.locator('.xterm-rows > div', { hasText: /^\s*pwdd?\s*$/ }).count(), 'no second echo of the line').toBe(0);
      await screenshot(page, 'laptop-debug-pipe');
      await page.keyboard.type('exit 3');
      await page.keyboard.press('Enter');
      await visible(page, 'the exit', pipeStatus.getByText('exited with status 3', { exact: true }), SESSION_MS);
      expectClean(watched, 'the debug sessions');
    } finally {
      await watched.close();
    }
  }, 90_000);
});
