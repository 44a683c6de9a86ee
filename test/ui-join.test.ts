/**
 * Joining the farm through the web UI, in a real browser (Debian's Chromium
 * through playwright-core) against a real master: a volunteer fills /join
 * (a bad field is named next to it), sees its application token once, an
 * operator with the API token approves it on /applications, and the
 * volunteer's status panel shows the worker's secret, command and config
 * exactly once (a later check says it was collected). Then the health page
 * shows the queue waits and the score history of builds a real worker ran.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE, openPage, overflowsHorizontally, screenshot, useBrowser, visible, expectClean } from './helpers/browser.js';
import {
  type ManagedProcess,
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
const BUILDS = 3;

const browserHolder = useBrowser();

/** Enters the API token through the header's token box. */
async function enterToken(page: Page, token: string): Promise<void> {
  const banner = page.getByRole('banner');
  await banner.getByRole('button', { name: /enter api token/i }).click();
  await banner.getByLabel('API token').fill(token);
  await banner.getByRole('button', { name: 'Save' }).click();
  await visible(page, 'the token box closed', banner.getByRole('button', { name: /change token/i }));
}

describe('joining the farm and farm health in the browser', () => {
  let master: ManagedProcess;
  let worker: ManagedProcess;
  let url: string;
  let apiToken: string;

  beforeAll(async () => {
    const dir = tempDir('shepherd-ui-join-');
    const port = await freePort();
    apiToken = secret();
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
  - name: quick
    workers: { os: linux }
    steps:
      - { name: build, run: 'echo built' }
platforms:
  - { name: linux, select: { os: linux }, tier: 1, redundancy: 1 }
`,
    );
    const started = await startMasterProcess(configPath, { SHEPHERD_API_TOKEN: apiToken, SHEPHERD_SECRET_W1: workerSecret });
    master = started.process.shareAcrossTests();
    url = started.url;
    // The farm's own worker runs the health page's builds; nothing runs for the joiner.
    worker = startWorkerProcess({ master: url.replace('http', 'ws'), name: 'w1', secret: workerSecret, dir: join(dir, 'w1') }).shareAcrossTests();
    await waitForWorkers(url, ['w1']);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await master?.stop();
  });

  it('a volunteer offers a worker, an operator approves it, the volunteer collects the secret once', async () => {
    // The volunteer on a phone: the one-time token and the long command must not push the page sideways.
    const volunteer = await openPage(browserHolder.browser, url, { viewport: PHONE });
    const operator = await openPage(browserHolder.browser, url);
    const again = await openPage(browserHolder.browser, url);
    const page = volunteer.page;
    const main = page.getByRole('main');
    try {
      await page.goto('/');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Join' }).click();
      await visible(page, 'the join heading', page.getByRole('heading', { level: 1, name: /join the farm/i }));
      const form = main.getByRole('form', { name: 'Offer a worker' });

      // The form's own check names the field, next to it.
      await form.getByLabel('Worker name').fill('w1');
      await form.getByLabel('Dimensions').fill('os linux');
      await form.getByLabel('Contact').fill('Vera Volunteer <vera@example.org>');
      await form.getByRole('button', { name: /offer this worker/i }).click();
      await visible(page, 'the dimensions problem', form.getByRole('alert').filter({ hasText: /^dimensions, line 1: expected key=value/ }));
      expect(await form.getByLabel('Dimensions').getAttribute('aria-invalid')).toBe('true');

      // The master's answer names the field too: w1 is taken (409, details.field = name).
      volunteer.expectFailure({ status: 409, path: /^\/api\/v1\/applications$/ });
      await form.getByLabel('Dimensions').fill('os=linux\narch=x86_64');
      await form.getByRole('button', { name: /offer this worker/i }).click();
      await visible(page, "the master's problem with the name", form.getByRole('alert').filter({ hasText: /already exists/ }));
      expect(await form.getByLabel('Worker name').getAttribute('aria-invalid')).toBe('true');

      await form.getByLabel('Worker name').fill('volunteer-1');
      await form.getByLabel('Notes').fill('A spare box under my desk, offered for a year.');
      await form.getByRole('button', { name: /offer this worker/i }).click();
      await visible(page, 'the application heading', page.getByRole('heading', { level: 1, name: /application #\d+ sent/i }));
      const id = Number(/#(\d+)/.exec(await page.getByRole('heading', { level: 1 }).innerText())![1]);
      expect(new URL(page.url()).search).toBe(`?application=${id}`);
      await visible(page, 'the keep-it warning', main.getByText(/keep it: shown only now/i));
      const token = (await main.getByRole('group', { name: /application token/i }).locator('code.secret').innerText()).trim();
      expect(token.length).toBeGreaterThan(16);
      await visible(page, 'the pending status', main.getByRole('region', { name: 'Status' }).getByText(/pending/));
      const pending = await apiGet<{ applications: { id: number }[] }>(url, '/applications?state=pending').catch((e: Error) => e);
      expect(pending, 'the application list needs the API token').toBeInstanceOf(Error);
      // The panel checks by itself when the live event says the operators decided.
      await visible(page, 'the live updates connected', page.getByRole('banner').getByTitle('live updates connected'));
      expect(await overflowsHorizontally(page), '/join scrolls sideways on a phone').toBe(false);
      await screenshot(page, 'phone-join-submitted');

      // The operator: nothing without the token; with it, the pending offer, its coverage and Approve.
      const op = operator.page;
      await op.goto('/applications');
      await visible(op, 'the token request', op.getByRole('main').getByText(/enter the master's api token/i));
      await enterToken(op, apiToken);
      await visible(op, 'the nav link with the pending count', op.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Applications, 1 pending' }));
      const offer = op.getByRole('main').getByRole('listitem').filter({ has: op.getByText('volunteer-1', { exact: true }) });
      await visible(op, 'the pending offer', offer);
      await visible(op, 'its contact', offer.getByText('vera@example.org', { exact: false }));
      await visible(op, 'its dimensions', offer.getByText('arch=x86_64'));
      await visible(op, 'the builder it could run', offer.getByRole('link', { name: 'quick' }));
      await visible(op, 'its notes', offer.getByText(/spare box under my desk/));
      expect(await overflowsHorizontally(op), '/applications scrolls sideways').toBe(false);
      await screenshot(op, 'laptop-applications');
      await offer.getByRole('form', { name: 'Approve volunteer-1' }).getByRole('button', { name: 'Approve' }).click();
      await visible(op, 'the approved application', op.getByRole('region', { name: 'Decided' }).getByRole('link', { name: 'volunteer-1' }));
      await visible(op, 'no pending offer left', op.getByRole('main').getByText('Nothing waiting for a decision.'));
      const created = await apiGet<{ source: string }>(url, '/workers/volunteer-1');
      expect(created.source).toBe('registered');

      // The volunteer's panel collects the secret, the config and the command, once.
      const status = main.getByRole('region', { name: 'Status' });
      await visible(page, 'the worker secret', status.getByRole('heading', { name: 'Worker secret' }));
      const workerSecret = (await status.locator('#worker-secret').innerText()).trim();
      expect(workerSecret.length).toBeGreaterThan(16);
      expect(await status.locator('#worker-config').innerText()).toContain('volunteer-1');
      expect((await status.locator('#worker-command').innerText()).length).toBeGreaterThan(0);
      await visible(page, 'the copy buttons', status.getByRole('button', { name: 'Copy the worker secret' }));
      expect(await overflowsHorizontally(page), 'the approved panel scrolls sideways on a phone').toBe(false);
      await screenshot(page, 'phone-join-approved');

      // Later: the status page with the token says the secret was collected and never shows it again.
      const later = again.page;
      await later.goto(`/join?application=${id}`);
      await visible(later, 'the application heading', later.getByRole('heading', { level: 1, name: `Application #${id}` }));
      await later.getByLabel('Application token').fill(token);
      await later.getByRole('button', { name: 'Check status' }).click();
      await visible(later, 'the secret already collected', later.getByRole('main').getByText(/already collected/));
      expect(await later.getByRole('main').innerText()).not.toContain(workerSecret);
      expect(await later.getByRole('heading', { name: 'Worker secret' }).count()).toBe(0);

      // The operator sees where the new worker came from.
      await op.goto('/workers/volunteer-1');
      await visible(op, 'the source of the worker', op.getByRole('main').getByText(`application #${id}`));

      expectClean(volunteer, '/join');
      expectClean(operator, '/applications');
      expectClean(again, `/join?application=${id}`);
    } finally {
      await volunteer.close();
      await operator.close();
      await again.close();
    }
  });

  it('the health page shows the queue waits and the score history of builds a real worker ran', async () => {
    for (let i = 0; i < BUILDS; i++) {
      const forced = await fetch(`${url}/api/v1/builders/quick/force`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: `ui health ${i}` }),
      });
      expect(forced.status).toBe(201);
    }
    // The master has the data before the page is asked to show it: a failure here is the master's, not the UI's.
    await waitFor(`${BUILDS} finished builds of quick`, async () => {
      const { builds } = await apiGet<{ builds: { state: string }[] }>(url, '/builds?builder=quick&state=finished');
      return builds.length >= BUILDS ? true : undefined;
    }, 30_000);
    await waitFor('queue waits of quick', async () => {
      const health = await apiGet<{ queue_waits: { builder: string; builds: number }[] }>(url, '/health');
      return health.queue_waits.find((q) => q.builder === 'quick' && q.builds >= BUILDS);
    });
    await waitFor('a recorded health sample', async () => {
      const { samples } = await apiGet<{ samples: unknown[] }>(url, '/health/history?days=1');
      return samples.length > 0 ? true : undefined;
    });

    const watched = await openPage(browserHolder.browser, url);
    const { page } = watched;
    const main = page.getByRole('main');
    try {
      await page.goto('/farm-health');
      await visible(page, 'the health heading', page.getByRole('heading', { level: 1, name: /farm health/i }));
      const waits = main.getByRole('table', { name: 'Queue waits' });
      await visible(page, 'the queue waits table', waits);
      const row = waits.getByRole('row').filter({ has: page.getByRole('link', { name: 'quick' }) });
      await visible(page, "quick's queue wait row", row);
      const cells = await row.getByRole('cell').allInnerTexts();
      expect(cells[1]).toBe('linux');
      expect(Number(cells[2])).toBeGreaterThanOrEqual(BUILDS);
      // Durations read as people read them: "120 ms", "1.2 s".
      expect(cells[3]).toMatch(/^\d+(\.\d)? (ms|s|min)/);
      expect(cells[4]).toMatch(/^\d+(\.\d)? (ms|s|min)/);

      const history = main.getByRole('region', { name: 'Score history' });
      await visible(page, 'the score history chart', history.getByRole('img', { name: /^Farm score \d+ now/ }));
      expect(await history.locator('polyline.farm').count()).toBeGreaterThan(0);
      expect(await history.locator('circle.farm-dot').count(), 'the latest score marked').toBe(1);
      await visible(page, 'the platform in the legend', history.getByRole('listitem').filter({ hasText: /^linux$/ }));
      await screenshot(page, 'laptop-health-history');
      expectClean(watched, '/farm-health');
    } finally {
      await watched.close();
    }
  });
});
