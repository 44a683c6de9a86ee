/**
 * The page the approval mail links to, in Chromium against a real master and
 * a real worker whose worker.yml asks for approval: `shepherd debug` waits;
 * the admin pastes a wrong secret (the worker rejects the token), then the
 * right one, and the waiting command runs. Only the token leaves the page.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPage, useBrowser } from './helpers/browser.js';
import { apiGet, runCli, secret, startMasterProcess, startWorkerProcess, tempDir, waitFor, waitForWorkers, writeFile } from './helpers/farm.js';

const CONFIG = `
master:
  listen: 127.0.0.1:0
  database: sqlite:./data/shepherd.sqlite
  data_dir: ./data
  api_token_env: SHEPHERD_API_TOKEN
workers:
  - { name: guarded, secret_env: SECRET_GUARDED }
builders:
  - { name: b, workers: [guarded], steps: [{ name: make, run: "true" }] }
`;

const ui = useBrowser();

describe('approving a debug session in the browser', () => {
  it("starts the session once the admin's secret computes the right token", async () => {
    const dir = realpathSync(tempDir());
    const workerSecret = secret();
    const env = { SHEPHERD_API_TOKEN: secret(), SECRET_GUARDED: workerSecret };
    const { process: master, url } = await startMasterProcess(writeFile(dir, 'shepherd.yml', CONFIG), env);
    const yml = writeFile(dir, 'worker.yml', 'debug: { allow: true, approval: true, max: 10m }\n');
    const worker = startWorkerProcess({ master: url.replace('http', 'ws'), name: 'guarded', secret: workerSecret, dir: join(dir, 'w'), extraArgs: ['--config', yml] });
    await waitForWorkers(url, ['guarded']);
    const watched = await openPage(ui.browser, url);
    try {
      const forced = await runCli(['force', 'b', '--master', url, '--wait', '--json'], env);
      const buildId = JSON.parse(forced.stdout).id as number;
      const debugging = runCli(['debug', String(buildId), '--master', url, '--', 'pwd'], env);
      const session = await waitFor('the session to wait for approval', async () => {
        const { sessions } = await apiGet<{ sessions: { session: string; ended_at: number | null }[] }>(url, `/builds/${buildId}/debug-sessions`);
        return sessions.find((s) => s.ended_at === null)?.session;
      });

      const { page } = watched;
      // The wrong secret: the worker rejects the token, the page says so.
      watched.expectFailure({ status: 403, path: /\/approve$/ });
      await page.goto(`/debug/${session}/approve`);
      await page.getByLabel('Worker secret').fill('not-the-secret');
      await page.getByRole('button', { name: 'Approve' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/was not approved: .*does not match/);

      await page.getByLabel('Worker secret').fill(workerSecret);
      await page.getByRole('button', { name: 'Approve' }).click();
      await expect.poll(() => page.getByRole('status').textContent()).toContain('Approved');

      const done = await debugging;
      expect(done.code, done.stderr).toBe(0);
      expect(done.stdout).toBe(`${join(dir, 'w', 'b')}\n`);
      expect(watched.problems).toEqual([]);
    } finally {
      await watched.close();
      await worker.stop();
      await master.stop();
    }
  }, 60_000);
});
