/**
 * On-demand workers in the web UI, in a real browser (Debian's Chromium
 * through playwright-core) against a real master whose only worker capacity
 * is a `local` pool: forcing a build starts an instance (a worker agent on
 * this host), and the workers page, the worker's page and the cost page show
 * it as an on-demand instance of pool `cloud`, with its state, life and cost,
 * and the month's spend against the budget. A pool whose start command
 * fails backs off: the builder page says why its request waits, the cost page
 * shows the backoff. (End-to-end pool behaviour is test/latent-e2e.test.ts;
 * this checks what people see.)
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE, openPage, overflowsHorizontally, screenshot, useBrowser, visible, expectClean } from './helpers/browser.js';
import { type ManagedProcess, WORKER_BUNDLE, apiGet, freePort, secret, startMasterProcess, tempDir, waitFor, writeFile } from './helpers/farm.js';
import { stopLocalInstances } from './helpers/latent.js';

/** How long the UI gets to show something that is already in the API (a fetch and a render). */
const browserHolder = useBrowser();

interface Instance {
  name: string;
  pool: string;
  state: string;
  connected_at: number | null;
  builds: number;
}

describe('on-demand instances in the browser', () => {
  let master: ManagedProcess;
  let url: string;
  let apiToken: string;
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(WORKER_BUNDLE)) throw new Error(`${WORKER_BUNDLE} is missing: run npm run build first (the local provider runs it)`);
    dir = tempDir('shepherd-ui-latent-');
    const port = await freePort();
    apiToken = secret();
    const configPath = writeFile(
      dir,
      'shepherd.yml',
      `
master:
  listen: 127.0.0.1:${port}
  database: sqlite:${dir}/shepherd.sqlite
  data_dir: ${dir}/data
  api_token_env: SHEPHERD_API_TOKEN
latent:
  - name: cloud
    provider: local
    dimensions: { os: linux }
    idle_timeout: 1m
    cost_per_hour: 0.5
budget:
  monthly: 100
builders:
  - name: quick
    workers: { os: linux }
    steps:
      - { name: build, run: 'echo built' }
`,
    );
    const started = await startMasterProcess(configPath, { SHEPHERD_API_TOKEN: apiToken });
    master = started.process.shareAcrossTests();
    url = started.url;
  }, 60_000);

  afterAll(async () => {
    await master?.stop();
    // The master leaves its instance running for its next start: the test stops it.
    await stopLocalInstances(join(dir, 'data'));
  });

  it('a forced build starts an instance; the workers, worker and cost pages show it', async () => {
    const watched = await openPage(browserHolder.browser, url);
    const page = watched.page;
    const main = page.getByRole('main');
    try {
      // Before any instance: the pool, nothing running, nothing spent.
      await page.goto('/cost');
      await visible(page, 'the cost heading', page.getByRole('heading', { level: 1, name: 'On-demand cost' }));
      await visible(page, 'the pool row', main.getByRole('row').filter({ hasText: 'cloud' }).filter({ hasText: '0 / 1' }));
      await visible(page, 'the budget bar', main.getByRole('meter', { name: 'spent of the monthly budget' }));
      await visible(page, 'no instances yet', main.getByText('No instance ran in that time.'));

      const forced = await fetch(`${url}/api/v1/builders/quick/force`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(forced.status, await forced.clone().text()).toBeLessThan(300);
      const instance = await waitFor(
        'an instance of pool cloud that ran the build',
        async () => {
          const { instances } = await apiGet<{ instances: Instance[] }>(url, '/instances?alive=true');
          return instances.find((i) => i.pool === 'cloud' && i.builds >= 1);
        },
        60_000,
      );

      await page.goto('/workers');
      const row = main.getByRole('row').filter({ hasText: instance.name });
      await visible(page, 'the instance row', row);
      await visible(page, 'its on-demand mark', row.getByText('on-demand'));
      await visible(page, 'its pool', row.getByRole('link', { name: 'cloud' }));
      await visible(page, 'its instance state', row.getByTitle(/^instance (idle|connected|building)$/));
      await visible(page, 'the link to the cost page', main.getByRole('link', { name: /spend, budget and instances/i }));
      await screenshot(page, 'latent-workers');

      await row.getByRole('link', { name: instance.name }).click();
      await visible(page, 'the worker heading', page.getByRole('heading', { level: 1, name: instance.name }));
      await visible(page, 'its source', main.getByText(/local instance .*started .*connected after/));
      await screenshot(page, 'latent-worker');

      await page.goto('/cost');
      await visible(page, 'the running instance counted', main.getByRole('row').filter({ hasText: 'cloud' }).filter({ hasText: '1 / 1' }));
      const instanceRow = main.getByRole('region', { name: 'Instances' }).getByRole('row').filter({ hasText: instance.name });
      await visible(page, 'the instance in the list', instanceRow);
      await visible(page, 'after how long it connected', instanceRow.getByText(/^after /));
      await screenshot(page, 'latent-cost');
      expect(await overflowsHorizontally(page)).toBe(false);
      await page.setViewportSize(PHONE);
      expect(await overflowsHorizontally(page)).toBe(false);
      await screenshot(page, 'latent-cost-phone');
      expectClean(watched, 'the latent views');
    } finally {
      await watched.close();
    }
  }, 120_000);
});

describe('a request waiting on a pool that backs off, in the browser', () => {
  let master: ManagedProcess;
  let url: string;
  let apiToken: string;

  beforeAll(async () => {
    const dir = tempDir('shepherd-ui-latent-backoff-');
    const port = await freePort();
    apiToken = secret();
    const configPath = writeFile(
      dir,
      'shepherd.yml',
      `
master:
  listen: 127.0.0.1:${port}
  database: sqlite:${dir}/shepherd.sqlite
  data_dir: ${dir}/data
  api_token_env: SHEPHERD_API_TOKEN
  public_url: http://127.0.0.1:${port}
latent:
  - name: broken
    provider: command
    command:
      start: 'echo "no capacity in this region" >&2; exit 1'
      stop: 'true'
      status: 'echo stopped'
      list: 'true'
    dimensions: { os: linux }
builders:
  - name: quick
    workers: { os: linux }
    steps:
      - { name: build, run: 'echo built' }
`,
    );
    const started = await startMasterProcess(configPath, { SHEPHERD_API_TOKEN: apiToken });
    master = started.process.shareAcrossTests();
    url = started.url;
  }, 60_000);

  afterAll(async () => {
    await master?.stop();
  });

  it('the builder page says why the request waits; the cost page shows the backoff and the failed start', async () => {
    const forced = await fetch(`${url}/api/v1/builders/quick/force`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(forced.status, await forced.clone().text()).toBeLessThan(300);
    const waiting = await waitFor(
      'the queued request to say it waits on the backoff',
      async () => {
        const { requests } = await apiGet<{ requests: { waiting?: string | null }[] }>(url, '/requests');
        return requests.map((r) => r.waiting).find((w) => w && /backing off/.test(w));
      },
      30_000,
    );
    expect(waiting).toMatch(/^waiting: pool broken is backing off after 1 failed start until \d\d:\d\d UTC$/);

    const watched = await openPage(browserHolder.browser, url);
    const page = watched.page;
    const main = page.getByRole('main');
    try {
      await page.goto('/builders/quick');
      const pending = main.getByRole('region', { name: 'Pending requests' });
      await visible(page, 'the waiting reason', pending.getByText(waiting!));
      await visible(page, 'that an instance can run it', main.getByText(/its requests wait for an on-demand instance/));
      await screenshot(page, 'latent-waiting');

      await page.goto('/cost');
      const pool = main.getByRole('row').filter({ hasText: 'broken' });
      await visible(page, 'the backoff', pool.getByText(/backing off after 1 failed start/));
      await visible(page, 'no budget', main.getByText('(no budget set)'));
      const instance = main.getByRole('region', { name: 'Instances' }).getByRole('row').filter({ hasText: 'broken-1' });
      await visible(page, 'the failed instance', instance.getByTitle('instance failed'));
      await visible(page, 'why it failed', instance.getByText(/^failed: .*no capacity in this region/));
      await visible(page, 'that it never connected', instance.getByText('never'));
      await screenshot(page, 'latent-backoff');
      expectClean(watched, 'the backoff views');
    } finally {
      await watched.close();
    }
  }, 60_000);
});
