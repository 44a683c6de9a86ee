/**
 * `shepherd changes` and `shepherd builds [ID]` against a real master: changes
 * recorded in the test control's store as a change source records them, and a
 * build of two of them run from the worker side of the protocol.
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../master/api/server.js';
import { createTestControl, TEST_CONFIG, type TestControl } from '../../master/api/test-control.js';
import type { Build, Change, NewChange } from '../../master/domain.js';
import { captureCli } from '../capture-cli.js';

const CONFIG = {
  ...TEST_CONFIG,
  changes: [
    { name: 'hello', git: 'https://example.org/hello.git', branches: ['main', 'dev'] },
  ],
};

let control: TestControl;
let app: FastifyInstance;
let client: string[];
/** Oldest first: two on main (built together), one on dev (not built). */
let changes: Change[];
let build: Build;

const sha = (c: string) => c.repeat(40);

function newChange(revision: string, branch: string, message: string, author: string): NewChange {
  return {
    source: 'hello',
    repository: 'https://example.org/hello.git',
    branch,
    revision,
    author,
    committer: author,
    message,
    files: ['src/hello.c'],
    when: Date.now(),
    via: 'poll',
  };
}

beforeAll(async () => {
  control = await createTestControl({ config: CONFIG });
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  client = ['--master', `http://127.0.0.1:${(app.server.address() as { port: number }).port}`];

  const now = Date.now();
  changes = [
    ...(await control.store.recordChanges(
      'hello',
      [
        newChange(sha('a'), 'main', 'Fix the greeting\n\nIt said hullo.', 'Ada Lovelace <ada@example.org>'),
        newChange(sha('b'), 'main', 'Add a test', 'Bob <bob@example.org>'),
      ],
      { main: sha('b') },
      now,
    )),
    ...(await control.store.recordChanges('hello', [newChange(sha('c'), 'dev', 'Try something', 'Cy <cy@example.org>')], { dev: sha('c') }, now)),
  ];
  const request = await control.force({
    builder: 'unix-tests',
    properties: { revision: sha('b'), branch: 'main' },
    reason: 'two changes',
    submittedBy: null,
    changeIds: changes.slice(0, 2).map((c) => c.id),
  });
  await control.connect('linux-1');
  build = await control.finishBuild((await control.buildStarted(request.id)).id, 'FAILURE');
  control.disconnect('linux-1');
});
afterAll(async () => {
  await app.close();
  await control.close();
});


const { shepherd, out, err, clearOut, clearErr } = captureCli();

describe('changes', () => {
  it('lists changes newest first with short revision, subject and builds', async () => {
    expect(await shepherd('changes', ...client)).toBe(0);
    const [a, b, c] = changes.map((ch) => ch.id);
    const lines = out().split('\n');
    expect(lines[0]).toMatch(/^ID +REVISION +BRANCH +AUTHOR +MESSAGE +BUILDS$/);
    expect(lines.slice(1).map((l) => l.split(/ {2,}/))).toEqual([
      [String(c), 'cccccccc', 'dev', 'Cy', 'Try something'],
      [String(b), 'bbbbbbbb', 'main', 'Bob', 'Add a test', `unix-tests#${build.number} FAILURE`],
      [String(a), 'aaaaaaaa', 'main', 'Ada Lovelace', 'Fix the greeting', `unix-tests#${build.number} FAILURE`],
      [''],
    ]);
  });

  it('filters by branch and source, pages with --before, and prints the API JSON', async () => {
    expect(await shepherd('changes', '--branch', 'main', '--limit', '1', '--json', ...client)).toBe(0);
    const page = JSON.parse(out());
    expect(page.changes.map((ch: { revision: string }) => ch.revision)).toEqual([sha('b')]);
    expect(page.changes[0].builds).toEqual([{ id: build.id, builder: 'unix-tests', number: build.number, state: 'finished', result: 'FAILURE' }]);
    expect(page.next).toBe(changes[1]!.id);

    clearOut();
    expect(await shepherd('changes', '--branch', 'main', '--limit', '1', ...client)).toBe(0);
    expect(err()).toBe(`more: --before ${changes[1]!.id}\n`);
    clearOut();
    clearErr();
    expect(await shepherd('changes', '--branch', 'main', '--before', String(changes[1]!.id), ...client)).toBe(0);
    expect(out()).toContain('aaaaaaaa');
    expect(out()).not.toContain('bbbbbbbb');

    clearOut();
    expect(await shepherd('changes', '--source', 'elsewhere', ...client)).toBe(0);
    expect(out()).toBe('');
    expect(err()).toBe('no changes match\n');
  });

  it('refuses a bad --limit (usage, exit 2)', async () => {
    expect(await shepherd('changes', '--limit', '0', ...client)).toBe(2);
    expect(err()).toMatch(/^shepherd: .*1 to 500/);
  });
});

describe('builds', () => {
  it('shows the revision in the list', async () => {
    expect(await shepherd('builds', ...client)).toBe(0);
    expect(out()).toMatch(new RegExp(`\\n${build.id} +unix-tests +#${build.number} +FAILURE +bbbbbbbb +linux-1 `));
  });

  it('ID shows one build with its steps, revision and blamelist', async () => {
    expect(await shepherd('builds', String(build.id), ...client)).toBe(0);
    const text = out();
    expect(text).toMatch(/^# +STEP +RESULT +DURATION +EXIT\n/);
    expect(text).toContain('blamelist (2 changes):\n  CHANGE  REVISION  AUTHOR        MESSAGE\n');
    expect(text).toMatch(new RegExp(`\\n  ${changes[0]!.id} +aaaaaaaa +Ada Lovelace +Fix the greeting\\n`));
    expect(text).toMatch(new RegExp(`\\nunix-tests #${build.number} \\(build ${build.id}\\) at bbbbbbbb: FAILURE in [^\\n]+\\n$`));

    clearOut();
    expect(await shepherd('builds', String(build.id), '--json', ...client)).toBe(0);
    const detail = JSON.parse(out());
    expect(detail).toMatchObject({ id: build.id, revision: sha('b') });
    expect(detail.blamelist.map((ch: { id: number }) => ch.id)).toEqual(changes.slice(0, 2).map((ch) => ch.id));
  });

  it('ID with a list filter is a usage error; an unknown ID is not found', async () => {
    expect(await shepherd('builds', String(build.id), '--builder', 'unix-tests', ...client)).toBe(2);
    expect(err()).toBe('shepherd: --builder lists builds; it cannot be used with a build ID\n');
    clearErr();
    expect(await shepherd('builds', '9999', ...client)).toBe(1);
    expect(err()).toMatch(/\(SHEPHERD_E_NOT_FOUND\)\n$/);
  });
});
