import { describe, expect, it } from 'vitest';
import type { BuildDetailJson, ChangeJson, StepJson } from '../master/api/schemas.js';
import { formatBuildsTable, formatBuildSummary } from './build-table.js';
import { formatTimestamp } from './format.js';

const t0 = new Date(2024, 0, 2, 3, 4, 5).getTime();

function step(index: number, name: string, patch: Partial<StepJson> = {}): StepJson {
  return {
    id: 100 + index,
    index,
    name,
    state: 'finished',
    result: 'SUCCESS',
    command: 'make',
    workdir: '.',
    started_at: t0,
    finished_at: t0 + 2100,
    exit_code: 0,
    signal: null,
    summary: null,
    log: { bytes: 10, truncated: false, url: `/api/v1/steps/${100 + index}/log` },
    ...patch,
  };
}

const build: BuildDetailJson = {
  id: 7,
  number: 3,
  builder: 'unix-tests',
  worker: 'linux-1',
  state: 'finished',
  result: 'FAILURE',
  properties: {},
  request_id: 5,
  revision: null,
  blamelist: [],
  started_at: t0,
  finished_at: t0 + 65_000,
  summary: null,
  steps: [
    step(0, 'compile'),
    step(1, 'test', { result: 'FAILURE', exit_code: 2 }),
    step(2, 'killed', { result: 'CANCELLED', exit_code: null, signal: 'SIGTERM' }),
    step(3, 'docs', { state: 'pending', result: null, started_at: null, finished_at: null, exit_code: null }),
  ],
};

describe('build tables', () => {
  it('lists builds with their result or state and duration', () => {
    const running = { ...build, id: 8, number: 4, state: 'running' as const, result: null, finished_at: null, revision: null };
    const text = formatBuildsTable([running, { ...build, revision: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0' }], t0 + 12_000);
    expect(text.split('\n')).toEqual([
      'ID  BUILDER     NUMBER  RESULT   REVISION  WORKER   STARTED              DURATION',
      `8   unix-tests  #4      running            linux-1  ${formatTimestamp(t0)}  12s+`,
      `7   unix-tests  #3      FAILURE  a1b2c3d4  linux-1  ${formatTimestamp(t0)}  1m 05s`,
      '',
    ]);
  });

  it('summarises a finished build step by step', () => {
    expect(formatBuildSummary(build, t0).split('\n')).toEqual([
      '#  STEP     RESULT     DURATION  EXIT',
      '0  compile  SUCCESS    2.1s      0',
      '1  test     FAILURE    2.1s      2',
      '2  killed   CANCELLED  2.1s      SIGTERM',
      '3  docs     pending',
      'unix-tests #3 (build 7): FAILURE in 1m 05s',
      '',
    ]);
  });

  it('names the revision and lists the blamelist before the closing line', () => {
    const change = (id: number, revision: string, author: string, message: string): ChangeJson => ({
      id,
      source: 'main-repo',
      repository: 'https://example.org/repo.git',
      branch: 'main',
      revision,
      author,
      committer: author,
      message,
      files: ['src/a.c'],
      when: t0,
      via: 'poll',
      received_at: t0,
    });
    const text = formatBuildSummary(
      {
        ...build,
        steps: [step(0, 'compile')],
        revision: 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0',
        blamelist: [
          change(12, 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0', 'Ada <ada@example.org>', 'Fix the parser\n\nbody'),
          change(11, 'ffeeddccbbaa99887766554433221100ffeeddcc', 'Bob <bob@example.org>', 'Add tests'),
        ],
      },
      t0,
    );
    expect(text.split('\n')).toEqual([
      '#  STEP     RESULT   DURATION  EXIT',
      '0  compile  SUCCESS  2.1s      0',
      'blamelist (2 changes):',
      '  CHANGE  REVISION  AUTHOR  MESSAGE',
      '  12      a1b2c3d4  Ada     Fix the parser',
      '  11      ffeeddcc  Bob     Add tests',
      'unix-tests #3 (build 7) at a1b2c3d4: FAILURE in 1m 05s',
      '',
    ]);
  });
});
