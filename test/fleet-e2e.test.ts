/**
 * Missing workers, end to end (issue 5's first must-show): a real master
 * process, a real worker agent and a real SMTP server. The worker is killed:
 * its admin gets one missing mail, then one reminder, then the announce list
 * gets one call for volunteers; the worker comes back: one recovery mail to
 * all of them. The master is restarted twice on the same config and
 * database on the way, and nothing is ever mailed twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type ReceivedMail, type TestSmtpServer } from '../src/master/notify/test-servers.js';
import {
  ManagedProcess,
  freePort,
  secret,
  startMasterProcess,
  startWorkerProcess,
  tempDir,
  waitFor,
  waitForWorkers,
  writeFile,
} from './helpers/farm.js';

function config(o: { dir: string; port: number; smtpUrl: string }): string {
  return `
master:
  listen: 127.0.0.1:${o.port}
  database: sqlite:${o.dir}/data/shepherd.sqlite
  data_dir: ${o.dir}/data
  public_url: http://shepherd.example.org
workers:
  - name: w1
    secret_env: SHEPHERD_SECRET_W1
    dimensions: { os: linux }
    admins: ["Ada <ada@example.org>"]
builders:
  - name: unix
    workers: { os: linux }
    steps: [{ name: hello, run: echo hello }]
platforms:
  - { name: linux, select: { os: linux }, tier: 1, redundancy: 1 }
fleet:
  missing_after: 2s
  remind_every: 3s
  orphan_after: 8s
  announce: [volunteers@example.org]
notify:
  mail: { smtp: "${o.smtpUrl}", from: shepherd@example.org }
`;
}

describe('missing workers, with escalation', () => {
  let dir: string;
  let configPath: string;
  let env: Record<string, string>;
  let workerSecret: string;
  let smtp: TestSmtpServer;
  let master: ManagedProcess | undefined;
  let url: string;

  beforeAll(async () => {
    dir = tempDir();
    smtp = await startSmtpServer();
    workerSecret = secret();
    env = { SHEPHERD_SECRET_W1: workerSecret };
    configPath = writeFile(dir, 'shepherd.yml', config({ dir, port: await freePort(), smtpUrl: smtp.url }));
  });

  afterAll(async () => {
    await master?.stop();
    await smtp.close();
  });

  async function startMaster(): Promise<void> {
    const started = await startMasterProcess(configPath, env);
    master = started.process;
    url = started.url;
  }

  /** Waits for the `count`-th mail (the farm's helper polls with a timeout, so a missing mail fails instead of hanging). */
  const mails = (count: number): Promise<ReceivedMail[]> =>
    waitFor(`${count} mails`, () => (smtp.messages.length >= count ? smtp.messages.slice() : undefined), 30_000);

  const brief = (list: ReceivedMail[]) => list.map((m) => `${m.subject} → ${m.to.join(', ')}`);

  it('mails the admin, reminds, calls for volunteers and tells them all it is back, once each across restarts', async () => {
    await startMaster();
    const workerDir = `${dir}/worker`;
    let worker = startWorkerProcess({ master: url.replace(/^http/, 'ws'), name: 'w1', secret: workerSecret, dir: workerDir });
    await waitForWorkers(url, ['w1']);

    worker.kill('SIGKILL');
    await worker.exited;
    const missing = (await mails(1))[0]!;
    expect(brief([missing])).toEqual(['[shepherd] worker w1 is missing → ada@example.org']);
    expect(missing.text).toContain('Builders with no live worker now: unix.');
    expect(missing.text).toContain('linux (tier 1): 0 live of 1 wanted');
    expect(missing.text).toContain('node shepherd-worker.mjs --master ws://shepherd.example.org --name w1');

    // A restart between the missing mail and the reminder: the new master must not mail "missing" again.
    await master!.stop();
    await startMaster();
    await mails(2);
    await mails(3);
    expect(brief(smtp.messages)).toEqual([
      '[shepherd] worker w1 is missing → ada@example.org',
      '[shepherd] reminder 1: worker w1 is still missing → ada@example.org',
      '[shepherd] volunteers wanted: worker w1 is orphaned → volunteers@example.org',
    ]);
    expect(smtp.messages[2]!.text).toContain('Dimensions: os=linux');
    // The API (and so the CLI and the web UI) shows it orphaned.
    await waitFor('w1 shown orphaned', async () => ((await workerState(url, 'w1')) === 'orphaned' ? true : undefined));

    // Another restart once orphaned; then the worker comes back. A repeat from the
    // restarted master's first decisions would reach the server before the recovery mail.
    await master!.stop();
    await startMaster();
    worker = startWorkerProcess({ master: url.replace(/^http/, 'ws'), name: 'w1', secret: workerSecret, dir: workerDir });
    await waitForWorkers(url, ['w1']);
    await mails(4);
    expect(brief(smtp.messages.slice(3))).toEqual(['[shepherd] worker w1 is back → ada@example.org, volunteers@example.org']);

    const workers = await fetch(`${url}/api/v1/workers`).then((r) => r.json() as Promise<{ workers: { name: string; connected: boolean }[] }>);
    expect(workers.workers.find((w) => w.name === 'w1')?.connected).toBe(true);
    expect(await workerState(url, 'w1')).toBe('idle');
    await worker.stop();
    await master!.stop();
    expect(smtp.messages).toHaveLength(4);
  });
});

/** A worker's state as the API shows it. */
async function workerState(url: string, name: string): Promise<string> {
  const worker = (await fetch(`${url}/api/v1/workers/${name}`).then((r) => r.json())) as { state: string };
  return worker.state;
}
