/**
 * The notifiers end to end over real parts: a real store (SQLite), the real
 * event bus, a real SMTP server and real HTTP servers standing in for chat
 * hooks and GitHub. Retries run on a ManualClock; tests wait on `idle()`.
 */
import { createHmac } from 'node:crypto';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { openTestStore } from '../../../test/helpers/databases.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import type { Build, NewChange, Result, Step } from '../domain.js';
import { MasterEventBus, type MasterEvents } from '../events.js';
import type { NewTestResult, Store } from '../store/store.js';
import { type NotifierService, publicUrlOf, startNotifiers } from './notifier-service.js';
import { startHttpServer, startSmtpServer, type TestHttpServer, type TestSmtpServer } from './test-servers.js';

const SECRETS = { env: { HOOK_SECRET: 'hush', GH_TOKEN: 'gh-token' } };
const SHA = 'abc1234def56789abc1234def56789abc1234def';

describe('notifier service', () => {
  let store: Store;
  let clock: ManualClock;
  let events: MasterEventBus;
  let smtp: TestSmtpServer;
  let http: TestHttpServer | undefined;
  let service: NotifierService | undefined;
  let failed: MasterEvents['notify:failed'][];
  let nextChange = 0;

  beforeEach(async () => {
    store = await openTestStore('sqlite');
    clock = new ManualClock();
    events = new MasterEventBus((_, error) => {
      throw error;
    });
    smtp = await startSmtpServer();
    failed = [];
    nextChange = 0;
    events.on('notify:failed', (p) => failed.push(p));
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await http?.close();
    http = undefined;
    await smtp.close();
    await store.close();
  });

  /** Starts the service with these notifiers (YAML flow text) and retry settings. */
  function start(notifiers: unknown[], retry: Record<string, unknown> = {}): NotifierService {
    const raw = parseYaml(`
master: { public_url: "https://ci.example.org" }
workers:
  - { name: w1, secret_env: W1, dimensions: { arch: s390x } }
  - { name: w2, secret_env: W2, dimensions: { arch: x86_64 } }
  - { name: w3, secret_env: W3 }
builders:
  - { name: unix-tests, workers: [w1], steps: [{ name: compile, run: make }, { name: test, run: make test }] }
  - { name: docs, workers: [w1], steps: [{ name: compile, run: make }, { name: test, run: make test }] }
`) as Record<string, unknown>;
    const full = parseConfig(
      { ...raw, notify: { mail: { smtp: smtp.url, from: 'Shepherd <shepherd@example.org>' }, notifiers, retry } },
      'test.yml',
      '/tmp',
    );
    service = startNotifiers({ config: full, secrets: SECRETS, store, events, clock, logger: pino({ level: 'silent' }), publicUrl: publicUrlOf(full) });
    return service;
  }

  function change(author: string, message = 'A change'): NewChange {
    nextChange++;
    return {
      source: 'src',
      repository: 'https://git.example.org/widget.git',
      branch: 'main',
      revision: `${String(nextChange).padStart(7, '0')}${'f'.repeat(33)}`,
      author,
      committer: author,
      message,
      files: ['a.c'],
      when: clock.now(),
      via: 'poll',
    };
  }

  /** Runs one build through the store and the bus: queued, started, steps run, finished. */
  async function runBuild(options: {
    result: Result;
    builder?: string;
    changes?: NewChange[];
    patchAuthor?: string;
    properties?: Record<string, string>;
    requeue?: boolean;
    awaitStart?: boolean;
    worker?: string;
    /** Runs before the build finishes (store its test results). */
    beforeFinish?: (build: Build, steps: Step[]) => Promise<void>;
  }) {
    const builder = options.builder ?? 'unix-tests';
    const at = clock.now();
    const changes = options.changes ? await store.recordChanges('src', options.changes, {}, at) : [];
    const patch = options.patchAuthor
      ? await store.addPatch({ source: 'src', baseRevision: '', branch: 'main', author: options.patchAuthor, comment: 'please try', createdAt: at, data: Buffer.from('diff') })
      : undefined;
    const properties = options.properties ?? { branch: 'main', revision: changes.at(-1)?.revision ?? SHA };
    const queued = await store.enqueueRequest({
      builder,
      priority: 0,
      properties,
      reason: 'test',
      submittedBy: null,
      submittedAt: at,
      changeIds: changes.map((c) => c.id),
      patchId: patch?.id ?? null,
    });
    const started = (await store.startBuild({ requestId: queued.id, builder, worker: options.worker ?? 'w1', properties, steps: ['compile', 'test'], startedAt: at }))!;
    events.emit('build:started', { build: started.build, request: started.request });
    if (options.awaitStart) await service!.idle();
    const stepResults: Result[] = options.result === 'FAILURE' ? ['SUCCESS', 'FAILURE'] : ['SUCCESS', 'SUCCESS'];
    for (const [i, step] of started.steps.entries()) {
      await store.markStepStarted(step.id, { command: 'make', workdir: '.', startedAt: at });
      const log = stepResults[i] === 'FAILURE' ? 'running tests\n\u001b[31mFAIL\u001b[0m: test_frobnicate\n' : 'ok\n';
      await store.appendLog(step.id, Buffer.from(log), 1);
      await store.finishStep(step.id, { result: stepResults[i]!, exitCode: stepResults[i] === 'FAILURE' ? 1 : 0, signal: null, summary: null, finishedAt: at });
    }
    await options.beforeFinish?.(started.build, started.steps);
    const finished = await store.finishBuild(started.build.id, { result: options.result, summary: null, finishedAt: at, requeue: options.requeue ?? false });
    events.emit('build:finished', { build: finished.build, request: finished.request, requeued: options.requeue ?? false });
    return finished.build;
  }

  it('mails the list and the blamelist when a builder breaks and when it recovers, not while it stays broken', async () => {
    start([{ name: 'team-mail', mail: { to: ['dev-list@example.org'] } }]);
    await runBuild({ result: 'SUCCESS', changes: [change('Zed <zed@example.org>')] });
    await service!.idle();
    expect(smtp.messages).toHaveLength(0);

    const broken = await runBuild({
      result: 'FAILURE',
      changes: [change('Bob <bob@example.org>', 'Tidy up'), change('Ada Lovelace <ADA@example.org>', 'Break it\n\nbody'), change('Ada <ada@example.org>')],
    });
    await service!.idle();
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(['dev-list@example.org', 'bob@example.org', 'ADA@example.org']);
    expect(mail!.subject).toBe('[shepherd] unix-tests #2 failed: test (0000004 by Ada and 2 others)');
    expect(mail!.text).toContain(`https://ci.example.org/builds/${broken.id}`);
    expect(mail!.text).toContain('    FAIL: test_frobnicate');
    expect(mail!.text).not.toContain('\u001b[');
    expect(mail!.text).toMatch(/0000003 Ada Lovelace <ADA@example.org>: Break it\n/);

    // Neither the try build, the cancelled one nor the retried one changes the builder's state.
    await runBuild({ result: 'SUCCESS', patchAuthor: 'Nobody' });
    await runBuild({ result: 'CANCELLED' });
    await runBuild({ result: 'RETRY', requeue: true });
    await runBuild({ result: 'FAILURE', changes: [change('Cy <cy@example.org>')] });
    await service!.idle();
    expect(smtp.messages).toHaveLength(1);

    await runBuild({ result: 'SUCCESS', changes: [change('Bob <bob@example.org>', 'Fix it')] });
    await service!.idle();
    const [, recovered] = await smtp.waitFor(2);
    expect(recovered!.to).toEqual(['dev-list@example.org', 'bob@example.org']);
    expect(recovered!.subject).toMatch(/^\[shepherd\] unix-tests #7 recovered \(0000006 by Bob\)$/);
    expect(smtp.messages).toHaveLength(2);
  });

  it('names the failed tests in the mail, and what separates the workers where each fails from those where it passed', async () => {
    start([{ name: 'team-mail', builders: ['unix-tests'], mail: { to: ['dev-list@example.org'] } }]);
    // w3 reports its own dimensions; the config gives it none.
    await store.recordWorkerConnected('w3', { dimensions: { arch: 'aarch64' } }, clock.now());
    const results = (outcomes: [string, NewTestResult['result'], string | null][]) => async (build: Build, steps: Step[]) => {
      await store.addTestResults(
        outcomes.map(([name, result, message]) => ({
          buildId: build.id, stepId: steps[1]!.id, builder: build.builder, worker: build.worker, platform: null, revision: SHA,
          name, suite: null, result, durationMs: null, message, flaky: false, rerun: false, quarantined: false, at: clock.now(),
        })),
      );
    };
    // The same revision passed test_os on the x86_64 and aarch64 workers; test_ssl failed there too.
    for (const worker of ['w2', 'w3']) {
      await runBuild({ result: 'SUCCESS', builder: 'docs', worker, beforeFinish: results([['test_os', 'passed', null], ['test_ssl', 'failed', 'boom']]) });
    }
    const many: [string, NewTestResult['result'], string | null][] = Array.from({ length: 12 }, (_, i) => [`test_m${String(i).padStart(2, '0')}`, 'error', null]);
    const broken = await runBuild({
      result: 'FAILURE',
      beforeFinish: results([
        ['test_os', 'failed', 'AssertionError: 1 != 2\nTraceback (most recent call last):\n  ...'],
        ['test_ssl', 'failed', '\n  ssl.SSLError: bad handshake\n'],
        ['test_ok', 'passed', null],
        ...many,
      ]),
    });
    await service!.idle();
    const [mail] = await smtp.waitFor(1);
    const text = mail!.text.replace(/\r\n/g, '\n');
    expect(text).toContain(
      [
        'Tests: 14 failed of 15',
        '  test_os: AssertionError: 1 != 2',
        '    fails only where arch=s390x (passed on w2, w3)',
        // It failed on every worker: nothing to separate.
        '  test_ssl: ssl.SSLError: bad handshake',
        ...Array.from({ length: 8 }, (_, i) => `  test_m0${i}`),
        `  ... and 4 more: shepherd tests ${broken.id}`,
        '',
      ].join('\n'),
    );
  });

    it('keeps to `builders` and mails only `to` without the blamelist', async () => {
    start([{ name: 'docs-only', builders: ['docs'], when: ['every_failure'], mail: { to: ['docs@example.org'], blamelist: false } }]);
    await runBuild({ result: 'FAILURE', changes: [change('Ada <ada@example.org>')] });
    await runBuild({ result: 'FAILURE', builder: 'docs', changes: [change('Bob <bob@example.org>')] });
    await runBuild({ result: 'FAILURE', builder: 'docs' });
    await service!.idle();
    const mails = await smtp.waitFor(2);
    expect(mails.map((m) => m.to)).toEqual([['docs@example.org'], ['docs@example.org']]);
    expect(mails.map((m) => m.subject)).toEqual([
      '[shepherd] docs #1 failed: test (0000002 by Bob)',
      `[shepherd] docs #2 failed again: test (${SHA.slice(0, 7)})`,
    ]);
  });

  it("mails a try build's result to the patch's author, whatever the notifiers say", async () => {
    start([{ name: 'team-mail', mail: { to: ['dev-list@example.org'] } }]);
    await runBuild({ result: 'FAILURE', patchAuthor: 'Cy Young <cy@example.org>' });
    await service!.idle();
    const [mail] = await smtp.waitFor(1);
    expect(mail!.to).toEqual(['cy@example.org']);
    expect(mail!.subject).toBe('[shepherd] try unix-tests #1 failed: test (patch by Cy Young)');
    expect(mail!.text).toContain('Try patch by Cy Young <cy@example.org>');
    expect(smtp.messages).toHaveLength(1);
  });

  it('posts the JSON document, signed', async () => {
    http = await startHttpServer();
    start([{ name: 'hook', when: ['finished'], webhook: { url: `${http.url}/shepherd`, secret_env: 'HOOK_SECRET' } }]);
    const build = await runBuild({ result: 'FAILURE', changes: [change('Ada <ada@example.org>')] });
    await service!.idle();
    const [request] = await http.waitFor(1);
    expect(request).toMatchObject({ method: 'POST', path: '/shepherd' });
    expect(request!.headers['content-type']).toBe('application/json');
    const expected = `sha256=${createHmac('sha256', 'hush').update(request!.body).digest('hex')}`;
    expect(request!.headers['x-shepherd-signature-256']).toBe(expected);
    expect(JSON.parse(request!.body)).toMatchObject({
      version: 1,
      transition: 'failing',
      build: { id: build.id, builder: 'unix-tests', number: 1, result: 'FAILURE', url: `https://ci.example.org/builds/${build.id}` },
      revision: `0000001${'f'.repeat(33)}`,
      failingStep: { name: 'test', result: 'FAILURE', logTail: 'running tests\nFAIL: test_frobnicate' },
      blamelist: [{ author: 'Ada <ada@example.org>' }],
    });
  });

  it('posts Slack, Zulip and Discord payloads in their shapes', async () => {
    http = await startHttpServer();
    start([
      { name: 'slack', webhook: { url: `${http.url}/slack`, format: 'slack' } },
      { name: 'zulip', webhook: { url: `${http.url}/api/v1/external/slack_incoming?api_key=k&stream=ci`, format: 'zulip' } },
      { name: 'discord', webhook: { url: `${http.url}/discord`, format: 'discord' } },
    ]);
    await runBuild({ result: 'FAILURE', changes: [change('Ada <ada@example.org>', 'Break <it>')] });
    await service!.idle();
    const requests = await http.waitFor(3);
    const byPath = Object.fromEntries(requests.map((r) => [r.path.split('?')[0], JSON.parse(r.body)]));
    expect(requests.every((r) => r.headers['x-shepherd-signature-256'] === undefined)).toBe(true);

    const slack = byPath['/slack'];
    expect(slack.text).toBe(`unix-tests #1 failed: test (0000001 by Ada)`);
    expect(slack.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
    expect(slack.blocks[0].text.text).toContain('Break &lt;it&gt;');

    const zulip = byPath['/api/v1/external/slack_incoming'];
    expect(Object.keys(zulip)).toEqual(['text']);
    expect(zulip.text).toContain('Break <it>');

    const discord = byPath['/discord'];
    expect(discord.content).toBe('unix-tests #1 failed: test (0000001 by Ada)');
    expect(discord.embeds[0]).toMatchObject({ title: 'unix-tests #1 failed: test', url: expect.stringMatching(/\/builds\/\d+$/), color: 0xd62828 });
  });

  it('sets a pending GitHub status when a build starts and its result when it ends', async () => {
    http = await startHttpServer();
    start([{ name: 'gh', github_status: { api_url: `${http.url}/api/v3`, repository: 'acme/widget', token_env: 'GH_TOKEN' } }]);
    const build = await runBuild({ result: 'WARNINGS', properties: { branch: 'main', revision: SHA, got_revision: SHA }, awaitStart: true });
    await service!.idle();
    const requests = await http.waitFor(2);
    expect(requests.map((r) => r.path)).toEqual([`/api/v3/repos/acme/widget/statuses/${SHA}`, `/api/v3/repos/acme/widget/statuses/${SHA}`]);
    expect(requests[0]!.headers).toMatchObject({ authorization: 'Bearer gh-token', accept: 'application/vnd.github+json' });
    expect(requests.map((r) => JSON.parse(r.body))).toEqual([
      { state: 'pending', target_url: `https://ci.example.org/builds/${build.id}`, description: '#1 running', context: 'shepherd/unix-tests' },
      { state: 'success', target_url: `https://ci.example.org/builds/${build.id}`, description: '#1 passed', context: 'shepherd/unix-tests' },
    ]);

    // A build that names no revision sets no status; a try build neither.
    await runBuild({ result: 'FAILURE', properties: { branch: 'main' } });
    await runBuild({ result: 'FAILURE', patchAuthor: 'Cy <cy@example.org>' });
    await service!.idle();
    expect(http.requests).toHaveLength(2);
  });

  it('retries on the clock: two 500s, then delivered on the third attempt', async () => {
    http = await startHttpServer([500, 500, 200]);
    start([{ name: 'hook', webhook: { url: `${http.url}/hook` } }], { attempts: 5, first_delay: '5s', max_delay: '1m' });
    await runBuild({ result: 'FAILURE' });
    await service!.settled();
    expect(http.requests.map((r) => r.status)).toEqual([500]);
    clock.advance(4_999);
    await service!.settled();
    expect(http.requests).toHaveLength(1);
    clock.advance(1);
    await service!.settled();
    expect(http.requests.map((r) => r.status)).toEqual([500, 500]);
    clock.advance(10_000);
    await service!.idle();
    expect(http.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    expect(new Set(http.requests.map((r) => r.body)).size).toBe(1);
    expect(failed).toEqual([]);
  });

  it('gives up on a dead endpoint with notify:failed, leaving the build alone', async () => {
    const dead = await startHttpServer();
    const url = `${dead.url}/hook`;
    await dead.close();
    start([{ name: 'dead-hook', webhook: { url } }], { attempts: 3, first_delay: '1s', max_delay: '1m' });
    const build = await runBuild({ result: 'FAILURE' });
    for (const wait of [1_000, 2_000]) {
      await service!.settled();
      expect(failed).toEqual([]);
      clock.advance(wait);
    }
    await service!.idle();
    expect(failed).toEqual([{ notifier: 'dead-hook', buildId: build.id, error: expect.stringContaining('ECONNREFUSED') }]);
    expect(await store.getBuild(build.id)).toEqual(build);
  });

  it('stop() cancels waiting retries', async () => {
    http = await startHttpServer([503]);
    start([{ name: 'hook', webhook: { url: `${http.url}/hook` } }]);
    await runBuild({ result: 'FAILURE' });
    await service!.settled();
    await service!.stop();
    clock.advance(3_600_000);
    await service!.idle();
    expect(http.requests).toHaveLength(1);
    expect(failed).toEqual([]);
  });
});
