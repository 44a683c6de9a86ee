/**
 * The scheduler service against a real store (SQLite and PostgreSQL) and a real event bus,
 * with a manual clock: quiet periods and nightly timetables are tested by
 * advancing time, never by sleeping. `submit` is the master's queueing
 * callback; here it records what it was given and enqueues it in the store.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DATABASES, openTestStore } from '../../../test/helpers/databases.js';
import type { ForceInput } from '../api/control.js';
import { ManualClock } from '../clock.js';
import { parseConfig } from '../config/load.js';
import type { Change, NewChange } from '../domain.js';
import { ShepherdError } from '../errors.js';
import { MasterEventBus } from '../events.js';
import type { Store } from '../store/store.js';
import { SchedulerService } from './scheduler-service.js';

const CONFIG = `
workers:
  - { name: w1, secret_env: S1 }
builders:
  - { name: linux, workers: [w1], steps: [{ name: s, run: "true" }] }
  - { name: mac, workers: [w1], steps: [{ name: s, run: "true" }] }
changes:
  - { name: cpython, git: "https://example.org/cpython.git", branches: ["3.*", main] }
schedulers:
  - name: on-main
    builders: [linux, mac]
    properties: { jobs: 4 }
    on_change: { branches: [main], ignore: ["Doc/**"], quiet: 1m }
  - name: nightly-changed
    builders: [linux]
    nightly: { cron: "0 3 * * *", only_if_changed: true }
  - name: nightly-always
    builders: [mac]
    nightly: { cron: "0 3 * * *", branch: "3.13" }
  - name: manual
    builders: [linux, mac]
    priority: 7
    force:
      params:
        clean: { type: boolean }
        mode: { type: choice, choices: [debug, release] }
        ticket: { type: string, required: true, pattern: "[A-Z]+-[0-9]+" }
  - name: try
    builders: [linux, mac]
    try: { max_patch: 1KB }
`;

const T0 = Date.parse('2024-03-01T02:00:00Z');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const DIFF = Buffer.from(
  'diff --git a/Lib/os.py b/Lib/os.py\n--- a/Lib/os.py\n+++ b/Lib/os.py\n@@ -1 +1 @@\n-old\n+new \xff\r\n',
  'latin1',
);

describe.each(DATABASES)('SchedulerService (%s)', (kind) => {
  const config = parseConfig(parseYaml(CONFIG), 'test.yml', '/tmp');
  let store: Store;
  let clock: ManualClock;
  let events: MasterEventBus;
  let submitted: ForceInput[];
  let service: SchedulerService;
  let revisions = 0;

  function makeService(): SchedulerService {
    return new SchedulerService({
      config,
      store,
      events,
      clock,
      logger: pino({ level: 'silent' }),
      submit: async (input) => {
        submitted.push(input);
        return store.enqueueRequest({ ...input, priority: input.priority ?? 0, submittedAt: clock.now() });
      },
    });
  }

  /** Records commits as a poller would and announces them; waits for the schedulers to take them. */
  async function push(branch: string, ...commits: { files?: string[]; message?: string; author?: string }[]): Promise<Change[]> {
    const news: NewChange[] = commits.map((c) => ({
      source: 'cpython',
      repository: 'https://example.org/cpython.git',
      branch,
      revision: `r${++revisions}`.padEnd(40, '0'),
      author: c.author ?? 'Ann <ann@example.org>',
      committer: 'Ann <ann@example.org>',
      message: c.message ?? `commit ${revisions}`,
      files: c.files ?? ['Lib/os.py'],
      when: clock.now(),
      via: 'poll',
    }));
    const added = await store.recordChanges('cpython', news, { [branch]: news.at(-1)!.revision }, clock.now());
    for (const change of added) events.emit('change:new', { change });
    await service.settled();
    return added;
  }

  async function advance(ms: number): Promise<void> {
    clock.advance(ms);
    await service.settled();
  }

  const of = (scheduler: string) => submitted.filter((s) => s.scheduler === scheduler);

  beforeEach(async () => {
    store = await openTestStore(kind);
    clock = new ManualClock(T0);
    events = new MasterEventBus((_, error) => {
      throw error;
    });
    submitted = [];
    service = makeService();
    await service.start();
  });
  afterEach(async () => {
    await service.stop();
    await store.close();
  });

  describe('on_change', () => {
    it('batches changes within the quiet period into one request per builder', async () => {
      const [c1] = await push('main', { author: 'Ann <ann@example.org>' });
      await advance(20_000);
      const [c2] = await push('main', { files: ['Doc/x.rst'], author: 'Bob <bob@example.org>' });
      await advance(20_000);
      const [c3] = await push('main', { message: 'Fix the parser\n\nDetails.', author: 'Cid <cid@example.org>' });
      await advance(MINUTE - 1);
      expect(of('on-main')).toEqual([]);
      await advance(1);
      expect(of('on-main')).toEqual(
        ['linux', 'mac'].map((builder) => ({
          builder,
          properties: {
            jobs: '4',
            revision: c3!.revision,
            branch: 'main',
            repository: 'https://example.org/cpython.git',
            source: 'cpython',
            scheduler: 'on-main',
          },
          reason: '3 changes on main: Fix the parser',
          submittedBy: 'Cid <cid@example.org>',
          scheduler: 'on-main',
          collapseKey: 'cpython\nmain',
          patchId: null,
          changeIds: [c1!.id, c2!.id, c3!.id],
        })),
      );
      const queued = await store.listQueuedRequests();
      expect(queued.map((r) => [r.builder, r.changeIds])).toEqual([
        ['linux', [c1!.id, c2!.id, c3!.id]],
        ['mac', [c1!.id, c2!.id, c3!.id]],
      ]);
      // Nothing is left pending.
      await advance(10 * MINUTE);
      expect(of('on-main')).toHaveLength(2);
      expect(await store.getSchedulerState('on-main')).toEqual({ batches: [] });
    });

    it('builds nothing for a Doc-only change, then builds it with the next code change', async () => {
      const [doc] = await push('main', { files: ['Doc/library/os.rst'] });
      await advance(10 * MINUTE);
      expect(of('on-main')).toEqual([]);
      const [code] = await push('main', { files: ['Doc/library/os.rst', 'Lib/os.py'] });
      await advance(MINUTE);
      expect(of('on-main').map((s) => [s.builder, s.changeIds, s.properties.revision])).toEqual([
        ['linux', [doc!.id, code!.id], code!.revision],
        ['mac', [doc!.id, code!.id], code!.revision],
      ]);
    });

    it('ignores changes on branches it does not follow', async () => {
      await push('3.13', { files: ['Lib/os.py'] });
      await advance(10 * MINUTE);
      expect(of('on-main')).toEqual([]);
      expect(await store.getSchedulerState('on-main')).toBeUndefined();
    });

    it('still builds a batch when the master restarts during the quiet period', async () => {
      const [c1] = await push('main', {});
      await advance(30_000);
      await service.stop();
      service = makeService();
      await service.start();
      await advance(30_000 - 1);
      expect(of('on-main')).toEqual([]);
      await advance(1);
      expect(of('on-main').map((s) => [s.builder, s.changeIds])).toEqual([
        ['linux', [c1!.id]],
        ['mac', [c1!.id]],
      ]);
    });

    it('builds at once on start-up when the quiet period ended while the master was down', async () => {
      const [c1] = await push('main', {});
      await service.stop();
      clock.advance(5 * MINUTE);
      service = makeService();
      await service.start();
      await service.settled();
      expect(of('on-main').map((s) => [s.builder, s.changeIds])).toEqual([
        ['linux', [c1!.id]],
        ['mac', [c1!.id]],
      ]);
    });

    it('keeps a change that arrives while the saved batches are read', async () => {
      const [c1] = await push('main', {});
      await service.stop();
      const [c2] = await store.recordChanges('cpython', [{ ...c1!, revision: 'f'.repeat(40) }], {}, clock.now());
      service = makeService();
      const started = service.start();
      // Emitted before start() has restored the saved batch of c1.
      events.emit('change:new', { change: c2! });
      await started;
      await advance(MINUTE);
      expect(of('on-main').map((s) => s.changeIds)).toEqual([
        [c1!.id, c2!.id],
        [c1!.id, c2!.id],
      ]);
    });
  });

  describe('nightly', () => {
    it('fires at 03:00 and, with only_if_changed, skips a night without changes', async () => {
      const [a, b] = await push('main', { files: ['Doc/x.rst'] }, { files: ['Doc/y.rst'] });
      await advance(59 * MINUTE); // 02:59
      expect(of('nightly-changed')).toEqual([]);
      expect(service.list().find((s) => s.name === 'nightly-changed')?.nextRun).toBe(Date.parse('2024-03-01T03:00:00Z'));

      await advance(MINUTE); // 03:00
      expect(of('nightly-changed')).toEqual([
        {
          builder: 'linux',
          properties: {
            revision: b!.revision,
            branch: 'main',
            repository: 'https://example.org/cpython.git',
            source: 'cpython',
            scheduler: 'nightly-changed',
          },
          reason: 'nightly (cron "0 3 * * *")',
          submittedBy: null,
          scheduler: 'nightly-changed',
          collapseKey: 'cpython\nmain',
          patchId: null,
          changeIds: [a!.id, b!.id],
        },
      ]);
      // Without only_if_changed it builds its branch, with no change known there: the branch head.
      expect(of('nightly-always').map((s) => [s.builder, s.properties.branch, s.properties.revision, s.changeIds])).toEqual([
        ['mac', '3.13', '', []],
      ]);

      await advance(DAY); // the next night: nothing changed
      expect(of('nightly-changed')).toHaveLength(1);
      expect(of('nightly-always')).toHaveLength(2);

      await advance(12 * 60 * MINUTE);
      const [c] = await push('main', { files: ['Doc/z.rst'] });
      await advance(12 * 60 * MINUTE); // the third night
      expect(of('nightly-changed').map((s) => [s.properties.revision, s.changeIds])).toEqual([
        [b!.revision, [a!.id, b!.id]],
        [c!.revision, [c!.id]],
      ]);
      expect(await store.getSchedulerState('nightly-changed')).toEqual({ lastChangeId: c!.id, lastRunAt: Date.parse('2024-03-03T03:00:00Z') });
    });

    it('skips the first night when the branch has no change at all', async () => {
      await advance(DAY);
      expect(of('nightly-changed')).toEqual([]);
      expect(of('nightly-always')).toHaveLength(1);
    });
  });

  describe('force', () => {
    const valid = { params: { ticket: 'BPO-42' }, submittedBy: 'Ann <ann@example.org>' };

    async function refused(name: string, input: Parameters<SchedulerService['force']>[1]): Promise<ShepherdError> {
      const error = await service.force(name, input).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ShepherdError);
      expect(submitted).toEqual([]);
      return error as ShepherdError;
    }

    it('queues one request per builder with the validated parameters', async () => {
      const requests = await service.force('manual', { ...valid, params: { ticket: 'BPO-42', clean: 'true' }, branch: '3.13', builders: ['mac'] });
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ builder: 'mac', priority: 7, scheduler: 'manual', collapseKey: null, reason: 'forced by Ann <ann@example.org>' });
      expect(requests[0]!.properties).toEqual({
        revision: '',
        branch: '3.13',
        repository: '',
        source: '',
        scheduler: 'manual',
        clean: 'true',
        mode: 'debug',
        ticket: 'BPO-42',
      });
      const all = await service.force('manual', { ...valid, reason: 'release check' });
      expect(all.map((r) => [r.builder, r.reason])).toEqual([
        ['linux', 'release check'],
        ['mac', 'release check'],
      ]);
    });

    it('names the field of every refused parameter, and queues nothing', async () => {
      const cases: [Record<string, unknown>, string][] = [
        [{}, 'params.ticket'],
        [{ ticket: 'bpo-42' }, 'params.ticket'],
        [{ ticket: 'BPO-42', clean: 'yes' }, 'params.clean'],
        [{ ticket: 'BPO-42', mode: 'fast' }, 'params.mode'],
        [{ ticket: 'BPO-42', colour: 'red' }, 'params.colour'],
      ];
      for (const [params, field] of cases) {
        const error = await refused('manual', { ...valid, params });
        expect(error.code).toBe('SHEPHERD_E_VALIDATION');
        expect(error.details).toEqual({ field });
      }
    });

    it('refuses builders the scheduler does not queue, bad refs and unknown schedulers', async () => {
      expect((await refused('manual', { ...valid, builders: ['linux', 'windows'] })).details).toEqual({ field: 'builders' });
      expect((await refused('manual', { ...valid, builders: [] })).details).toEqual({ field: 'builders' });
      expect((await refused('manual', { ...valid, revision: '--upload-pack=x' })).details).toEqual({ field: 'revision' });
      expect((await refused('manual', { ...valid, branch: 'a b' })).details).toEqual({ field: 'branch' });
      expect((await refused('nope', valid)).code).toBe('SHEPHERD_E_NOT_FOUND');
      const notForce = await refused('on-main', valid);
      expect(notForce.code).toBe('SHEPHERD_E_NOT_FOUND');
      expect(notForce.message).toContain('expected one of manual');
    });
  });

  describe('try', () => {
    const input = { builders: ['linux', 'mac'], patch: DIFF, baseRevision: 'a'.repeat(40), author: 'Ann <ann@example.org>', comment: 'Check the fix' };

    async function refused(over: Partial<typeof input> & { scheduler?: string }): Promise<ShepherdError> {
      const error = await service.submitTry({ ...input, ...over }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ShepherdError);
      expect(submitted).toEqual([]);
      return error as ShepherdError;
    }

    it('stores the patch byte for byte and queues one request per builder', async () => {
      const { patch, requests } = await service.submitTry(input);
      expect(patch).toMatchObject({ source: 'cpython', baseRevision: 'a'.repeat(40), branch: 'main', author: 'Ann <ann@example.org>', comment: 'Check the fix', sizeBytes: DIFF.length });
      const stored = await store.getPatch(patch.id);
      expect(stored?.data.equals(DIFF)).toBe(true);
      expect(requests.map((r) => r.builder)).toEqual(['linux', 'mac']);
      expect(submitted[0]).toEqual({
        builder: 'linux',
        properties: {
          revision: 'a'.repeat(40),
          branch: 'main',
          repository: 'https://example.org/cpython.git',
          source: 'cpython',
          scheduler: 'try',
        },
        reason: 'try: Check the fix',
        submittedBy: 'Ann <ann@example.org>',
        scheduler: 'try',
        collapseKey: null,
        patchId: patch.id,
        changeIds: [],
      });
    });

    it('accepts a plain unified diff and a named branch', async () => {
      const plain = Buffer.from('--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n');
      const { patch } = await service.submitTry({ ...input, patch: plain, branch: '3.13', scheduler: 'try', builders: ['mac'] });
      expect(patch.branch).toBe('3.13');
      expect(submitted.map((s) => s.builder)).toEqual(['mac']);
    });

    it('refuses an empty patch, one over max_patch (naming the limit) and one that is not a diff', async () => {
      const empty = await refused({ patch: Buffer.alloc(0) });
      expect([empty.code, empty.status]).toEqual(['SHEPHERD_E_PATCH', 400]);
      expect(empty.message).toMatch(/empty/);
      const big = await refused({ patch: Buffer.concat([DIFF, Buffer.alloc(1024, 'x')]) });
      expect(big.code).toBe('SHEPHERD_E_PATCH');
      expect(big.message).toMatch(/1 KiB \(max_patch\)/);
      const prose = await refused({ patch: Buffer.from('please build my change\n') });
      expect(prose.code).toBe('SHEPHERD_E_PATCH');
      expect(prose.message).toMatch(/not a diff/);
    });

    it('refuses builders it does not queue and unknown try schedulers', async () => {
      expect((await refused({ builders: ['windows'] })).details).toEqual({ field: 'builders' });
      expect((await refused({ scheduler: 'manual' })).code).toBe('SHEPHERD_E_NOT_FOUND');
      expect((await refused({ baseRevision: '-x' })).details).toEqual({ field: 'baseRevision' });
    });

    it('answers NOT_FOUND when no try scheduler is configured', async () => {
      const raw = parseYaml(CONFIG) as { schedulers: { name: string }[] };
      raw.schedulers = raw.schedulers.filter((s) => s.name !== 'try');
      const other = new SchedulerService({
        config: parseConfig(raw, 'test.yml', '/tmp'),
        store,
        events,
        clock,
        logger: pino({ level: 'silent' }),
        submit: () => Promise.reject(new Error('not expected')),
      });
      await expect(other.submitTry(input)).rejects.toMatchObject({ code: 'SHEPHERD_E_NOT_FOUND' });
    });
  });

  describe('list', () => {
    it('shows each scheduler with its kind, builders, force params and next nightly run', () => {
      expect(service.list()).toEqual([
        { name: 'on-main', kind: 'on_change', builders: ['linux', 'mac'] },
        { name: 'nightly-changed', kind: 'nightly', builders: ['linux'], nextRun: Date.parse('2024-03-01T03:00:00Z') },
        { name: 'nightly-always', kind: 'nightly', builders: ['mac'], nextRun: Date.parse('2024-03-01T03:00:00Z') },
        { name: 'manual', kind: 'force', builders: ['linux', 'mac'], params: config.schedulers[3]!.force!.params },
        { name: 'try', kind: 'try', builders: ['linux', 'mac'] },
      ]);
    });
  });

  it('a nightly whose cron expression cannot be read is refused with the config, before any service starts', () => {
    const raw = parseYaml(CONFIG) as { schedulers: Record<string, unknown>[] };
    raw.schedulers[1] = { name: 'bad', builders: ['linux'], nightly: { cron: '0 3 * * * *' } };
    expect(() => parseConfig(raw, 'test.yml', '/tmp')).toThrow(/schedulers\[1\]\.nightly\.cron: invalid cron/);
  });
});
