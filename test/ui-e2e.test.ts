/**
 * The web UI in a real browser (Debian's Chromium through playwright-core)
 * against real masters and worker agents: every view renders the demo farm's
 * builds without console errors at laptop and phone sizes, a running step's
 * log grows in the open page, builds are forced from the UI with a token
 * (and refused without a good one), and the back button retraces the way.
 * Screenshots of every view land in test/screenshots/ (git-ignored).
 */
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAPTOP, PHONE, openPage, overflowsHorizontally, screenshot, useBrowser, type WatchedPage, visible, expectClean, SHOWN_MS } from './helpers/browser.js';
import {
  CLI,
  ManagedProcess,
  apiGet,
  freePort,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitFor,
  waitForWorkers,
  writeFile,
} from './helpers/farm.js';

/** How long the UI gets to show something that is already in the API (a fetch and a render). */
const browserHolder = useBrowser();

interface Build {
  id: number;
  number: number;
  builder: string;
  worker: string;
  state: string;
  result: string | null;
  revision: string | null;
  properties: Record<string, string>;
}

/** `shepherd demo --port 0` in a temporary directory, running until it is stopped. */
interface Demo {
  process: ManagedProcess;
  dir: string;
  url: string;
  token: string;
}

/** Starts the demo farm and resolves once its forced builds are done. */
async function startDemo(): Promise<Demo> {
  const dir = tempDir('shepherd-ui-demo-');
  const child = spawn(process.execPath, [CLI, 'demo', '--dir', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = new ManagedProcess('shepherd demo', child).shareAcrossTests();
  const [, url] = await proc.waitForOutput(/master\s+(http:\/\/\S+)/, 30_000);
  await proc.waitForOutput(/All demo builds finished/, 60_000);
  return { process: proc, dir, url: url!, token: readFileSync(join(dir, 'api-token'), 'utf8').trim() };
}

/** A link (by its stable URL: its wording is the view's business) inside the page's main area. */
function linkTo(page: Page, path: string) {
  return page.getByRole('main').getByRole('link').and(page.locator(`[href="${path}"]`));
}

/** Marks the document, so a later check can tell whether the page was reloaded meanwhile. */
async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (globalThis as { __shepherdMarker?: string }).__shepherdMarker = 'still here';
  });
}

async function documentMarked(page: Page): Promise<boolean> {
  return page.evaluate(() => (globalThis as { __shepherdMarker?: string }).__shepherdMarker === 'still here');
}

describe('the web UI on the demo farm', () => {
  let demo: Demo;
  /** The demo's forced build of hello-debug (no change: it shows on builder pages, not on the grid). */
  let forcedBuild: Build;
  /** The build of hello-debug at a commit the test pushes (it shows on the grid and the console). */
  let commitBuild: Build;
  /** A build demo-1 ran. */
  let workerBuild: Build;
  let stepLine: string;
  const stepName = 'test';

  beforeAll(async () => {
    demo = await startDemo();
    forcedBuild = (await builds(demo.url, 'builder=hello-debug'))[0]!;
    expect(forcedBuild).toMatchObject({ state: 'finished', result: 'SUCCESS' });

    // A commit, so the grid and the console have a change with builds; a poll instead of the demo's 5 s wait.
    const clone = join(demo.dir, 'hello-c');
    appendFileSync(join(clone, 'hello.c'), '/* a change for the UI tests */\n');
    execFileSync('git', ['commit', '-q', '-am', 'A change for the UI tests'], { cwd: clone });
    execFileSync('git', ['push', '-q', 'origin', 'main'], { cwd: clone, stdio: 'ignore' });
    const revision = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: clone, encoding: 'utf8' }).trim();
    const polled = await fetch(`${demo.url}/api/v1/sources/hello-c/poll`, { method: 'POST', headers: { authorization: `Bearer ${demo.token}` } });
    expect(polled.status).toBe(200);
    const atCommit = await waitFor('both builders to build the commit', async () => {
      const found = (await builds(demo.url, 'state=finished')).filter((b) => b.revision === revision);
      return found.length === 2 ? found : undefined;
    }, 30_000);
    commitBuild = atCommit.find((b) => b.builder === 'hello-debug')!;
    expect(commitBuild.result).toBe('SUCCESS');
    workerBuild = (await builds(demo.url, 'worker=demo-1'))[0]!;
    expect(workerBuild).toBeDefined();

    // A line of the step's log that the step view must show.
    const log = await (await fetch(`${demo.url}/api/v1/builds/${commitBuild.id}/steps/${stepName}/log`)).text();
    stepLine = log.split('\n').map((l) => l.trim()).find((l) => l.length > 3)!;
    expect(stepLine).toBeDefined();
  }, 90_000);

  afterAll(async () => {
    await demo?.process.stop();
  });

  /** The views, each with what proves it rendered the demo's data. */
  function views(): View[] {
    const build = `/builds/${commitBuild.id}`;
    const builder = { what: 'a link to the builder', path: '/builders/hello-debug' };
    return [
      { name: 'home', path: '/', heading: /now/i, links: [{ what: 'the workers card', path: '/workers' }], text: /farm is green/i },
      { name: 'builders', path: '/builders', heading: /builders/i, links: [builder, { what: "a link to the builder's last build", path: build }] },
      {
        name: 'builder',
        path: '/builders/hello-debug',
        heading: /hello-debug/,
        links: [
          { what: 'a link to the forced build', path: `/builds/${forcedBuild.id}` },
          { what: 'a link to the build of the commit', path: build },
          { what: 'a link to a worker', path: '/workers/demo-1' },
        ],
      },
      { name: 'grid', path: '/grid', heading: /grid/i, links: [builder, { what: 'a square of the build of the commit', path: build }] },
      { name: 'console', path: '/console', heading: /console/i, links: [builder, { what: 'a square of the build of the commit', path: build }] },
      { name: 'build', path: build, heading: /hello-debug/, links: [builder] },
      { name: 'step', path: `${build}/steps/${stepName}`, heading: /hello-debug/, links: [builder], text: stepLine },
      { name: 'workers', path: '/workers', heading: /workers/i, links: [{ what: 'a link to the worker', path: '/workers/demo-1' }] },
      { name: 'health', path: '/farm-health', heading: /farm health/i, links: [], text: /every platform is covered/ },
      { name: 'coverage', path: '/coverage', heading: /coverage/i, links: [{ what: 'a worker of the platform', path: '/workers/demo-1' }], text: /covered/ },
      { name: 'worker', path: '/workers/demo-1', heading: /demo-1/, links: [{ what: 'a link to a build it ran', path: `/builds/${workerBuild.id}` }] },
    ];
  }

  it('renders every view with the demo builds, at laptop size, without console errors', async () => {
    const watched = await openPage(browserHolder.browser, demo.url, { viewport: LAPTOP });
    try {
      for (const view of views()) await checkView(watched, view, 'laptop');
    } finally {
      await watched.close();
    }
  });

  it('renders the home and build pages at phone size without sideways scrolling', async () => {
    const watched = await openPage(browserHolder.browser, demo.url, { viewport: PHONE });
    try {
      for (const view of views().filter((v) => ['home', 'build', 'step'].includes(v.name))) await checkView(watched, view, 'phone');
    } finally {
      await watched.close();
    }
  });

  it('offers no force action without a token; refuses a wrong token clearly; forces a build with the right one', async () => {
    const watched = await openPage(browserHolder.browser, demo.url);
    const { page } = watched;
    const main = page.getByRole('main');
    const forceButton = main.getByRole('button', { name: /force/i });
    try {
      await page.goto('/builders/hello-debug');
      await visible(page, 'the builder heading', page.getByRole('heading', { level: 1, name: /hello-debug/ }));
      // Wait for the data, so a force form that would render with it has had its chance.
      await visible(page, 'a link to its build', linkTo(page, `/builds/${forcedBuild.id}`));
      expect(await forceButton.count(), 'force buttons without a token').toBe(0);
      expect(await main.getByRole('form').count(), 'forms without a token').toBe(0);
      await markDocument(page);

      // A wrong token: the master answers 401 and the UI says the token was refused.
      watched.expectFailure({ status: 401, path: /\/force$/ });
      // The header asks for the pending applications count with the token: refused too.
      watched.expectFailure({ status: 401, path: /\/applications$/ });
      await enterToken(page, 'not-the-token');
      await visible(page, 'the force button once a token is set', forceButton);
      await forceButton.first().click();
      await visible(page, 'a refusal message in the form', main.getByRole('alert').filter({ hasText: /refused/i }));
      await visible(page, 'the header saying the token was refused', page.getByRole('banner').getByText(/refused/i));

      // The right token: force with the verbose parameter; the page opens the build, which finishes live.
      const before = new Set((await builds(demo.url, 'builder=hello-debug')).map((b) => b.id));
      await enterToken(page, demo.token, /change token/i);
      const verbose = main.getByRole('checkbox', { name: 'verbose' });
      await visible(page, 'the force scheduler\'s verbose checkbox', verbose);
      await verbose.check();
      await forceButton.first().click();

      const build = await waitFor('the forced build', async () => (await builds(demo.url, 'builder=hello-debug')).find((b) => !before.has(b.id)), 30_000);
      expect(build.properties.verbose).toBe('true');
      await waitFor(`the page to open build ${build.id}`, () => (new URL(page.url()).pathname === `/builds/${build.id}` ? true : undefined));
      await visible(page, 'the build page', page.getByRole('heading', { level: 1, name: /hello-debug/ }));
      await visible(page, 'the build finished with success', buildResult(page, 'success'), 30_000);
      expect(await documentMarked(page), 'the page was not reloaded').toBe(true);
      await screenshot(page, 'laptop-forced-build');

      // Rebuild: the same code again, with the build's own parameters; the page opens the new build.
      await page.getByRole('button', { name: /rebuild/i }).click();
      const rebuilt = await waitFor('the rebuild', async () => (await builds(demo.url, 'builder=hello-debug')).find((b) => b.id > build.id), 30_000);
      expect(rebuilt.properties.verbose).toBe('true');
      // Pinned to what the build checked out, so a branch that moved since does not change what is built.
      const finished = (await builds(demo.url, 'builder=hello-debug')).find((b) => b.id === build.id)!;
      expect(rebuilt.properties.revision).toBe(finished.properties.got_revision);
      await waitFor(`the page to open build ${rebuilt.id}`, () => (new URL(page.url()).pathname === `/builds/${rebuilt.id}` ? true : undefined));
      await visible(page, 'the rebuild finished with success', buildResult(page, 'success'), 30_000);
      expectClean(watched, 'the builder page while forcing');
    } finally {
      await watched.close();
    }
  });

  it('the back button retraces home → builders → builder → build', async () => {
    const watched = await openPage(browserHolder.browser, demo.url);
    const { page } = watched;
    const nav = page.getByRole('navigation', { name: 'Main' });
    try {
      await page.goto('/');
      await visible(page, 'the home heading', page.getByRole('heading', { level: 1 }));
      await nav.getByRole('link', { name: 'Builders' }).click();
      await visible(page, 'the builder list', linkTo(page, '/builders/hello-debug'));
      await linkTo(page, '/builders/hello-debug').first().click();
      await visible(page, 'the builder page', page.getByRole('heading', { level: 1, name: /hello-debug/ }));
      await visible(page, 'a link to its build', linkTo(page, `/builds/${forcedBuild.id}`));
      await linkTo(page, `/builds/${forcedBuild.id}`).first().click();
      await waitForPath(page, `/builds/${forcedBuild.id}`);

      await page.goBack();
      await waitForPath(page, '/builders/hello-debug');
      await visible(page, 'the builder page again', page.getByRole('heading', { level: 1, name: /hello-debug/ }));
      await page.goBack();
      await waitForPath(page, '/builders');
      await visible(page, 'the builder list again', linkTo(page, '/builders/hello-debug'));
      expectClean(watched, 'the way back');
    } finally {
      await watched.close();
    }
  });
});

/** A view to render, and what proves it shows the farm's data. */
interface View {
  name: string;
  path: string;
  /** The page's h1. */
  heading: RegExp;
  /** Links (by URL) the view must show. */
  links: { what: string; path: string }[];
  /** Text the view must show. */
  text?: string | RegExp;
}

/** Opens a view, waits for its data, checks it is clean and fits the viewport, and saves its screenshot. */
async function checkView(watched: WatchedPage, view: View, size: 'laptop' | 'phone'): Promise<void> {
  const { page } = watched;
  await page.goto(view.path);
  await visible(page, `a heading matching ${view.heading}`, page.getByRole('heading', { level: 1, name: view.heading }));
  for (const link of view.links) await visible(page, `${link.what} (${link.path})`, linkTo(page, link.path));
  if (view.text) await visible(page, `the text ${view.text}`, page.getByRole('main').getByText(view.text));
  expect(await overflowsHorizontally(page), `${view.path} scrolls sideways at ${size} size`).toBe(false);
  await screenshot(page, `${size}-${view.name}`);
  expectClean(watched, view.path);
}

/** The builds the API lists for a query string (newest first). */
async function builds(url: string, query: string): Promise<Build[]> {
  return (await apiGet<{ builds: Build[] }>(url, `/builds?${query}`)).builds;
}

/** Waits until the page's path (a client-side navigation) is `path`. */
async function waitForPath(page: Page, path: string): Promise<void> {
  await waitFor(`the page at ${path} (now ${page.url()})`, () => (new URL(page.url()).pathname === path ? true : undefined), SHOWN_MS);
}

/** The build's own result badge on the build page (in its "Build" region, apart from the steps' badges). */
function buildResult(page: Page, result: string) {
  return page.getByRole('region', { name: 'Build', exact: true }).getByTitle(result, { exact: true });
}

/** Enters a token through the header's token box. */
async function enterToken(page: Page, token: string, open: RegExp = /enter api token/i): Promise<void> {
  const banner = page.getByRole('banner');
  await banner.getByRole('button', { name: open }).click();
  await banner.getByLabel('API token').fill(token);
  await banner.getByRole('button', { name: 'Save' }).click();
  await visible(page, 'the token box closed', banner.getByRole('button', { name: /change token/i }));
}

describe("a running step's log in the browser", () => {
  it('grows in the open page as the step prints, without a reload', async () => {
    const browser = browserHolder.browser;
    const dir = tempDir('shepherd-ui-log-');
    const release = join(dir, 'release');
    const port = await freePort();
    const token = secret();
    const workerSecret = secret();
    const configPath = writeFile(
      dir,
      'shepherd.yml',
      `
master:
  listen: 127.0.0.1:${port}
  database: sqlite:${dir}/shepherd.sqlite
  data_dir: ${dir}/data
  api_token_env: SHEPHERD_API_TOKEN
workers:
  - name: w1
    secret_env: SHEPHERD_SECRET_W1
    dimensions: { os: linux }
builders:
  - name: slow
    workers: { os: linux }
    steps:
      - name: wait
        # printf, so the page showing the command does not show the lines themselves.
        run: 'printf "first-%s\\n" line; while [ ! -f "$RELEASE" ]; do sleep 0.1; done; printf "second-%s\\n" line'
        env: { RELEASE: ${JSON.stringify(release)} }
        timeout: 1m
`,
    );
    const { process: master, url } = await startMasterProcess(configPath, { SHEPHERD_API_TOKEN: token, SHEPHERD_SECRET_W1: workerSecret });
    const worker = startWorkerProcess({ master: url.replace('http', 'ws'), name: 'w1', secret: workerSecret, dir: join(dir, 'w1') });
    const watched = await openPage(browser, url);
    const { page } = watched;
    try {
      await waitForWorkers(url, ['w1']);
      const forced = await fetch(`${url}/api/v1/builders/slow/force`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'ui test' }),
      });
      expect(forced.status).toBe(201);
      const { request } = (await forced.json()) as { request: { id: number } };
      const buildId = await waitFor('the build to start', async () => {
        const r = await apiGet<{ build_id: number | null }>(url, `/requests/${request.id}`);
        return r.build_id ?? undefined;
      });

      // The page opens once the build says the first line is there: its output event went out before
      // the page listened, and the build's log length lags the live log by up to a flush (250 ms).
      await waitFor('the first line in the build', async () => {
        const build = await apiGet<{ steps: { log: { bytes: number } }[] }>(url, `/builds/${buildId}`);
        return (build.steps[0]?.log.bytes ?? 0) >= 'first-line\n'.length ? true : undefined;
      });
      const path = `/builds/${buildId}/steps/wait`;
      await page.goto(path);
      await visible(page, 'first-line in the log', page.getByRole('main').getByText('first-line'));
      // Output printed before the event stream is connected would not be announced to this page.
      await visible(page, 'the live updates connected', page.getByRole('banner').getByTitle('live updates connected'));
      expect(await page.getByRole('main').getByText('second-line').count()).toBe(0);
      await markDocument(page);
      writeFileSync(release, '');
      await visible(page, 'second-line in the log, live', page.getByRole('main').getByText('second-line'), 20_000);
      expect(new URL(page.url()).pathname, 'the page stayed where it was').toBe(path);
      expect(await documentMarked(page), 'the page was not reloaded').toBe(true);
      await screenshot(page, 'laptop-live-log');
      expectClean(watched, path);
    } finally {
      writeFileSync(release, '');
      await watched.close();
      await worker.stop();
      await master.stop();
    }
  });
});
