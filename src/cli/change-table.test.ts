import { describe, expect, it } from 'vitest';
import type { ChangeWithBuildsJson } from '../master/api/schemas.js';
import { formatBlamelist, formatChangesTable } from './change-table.js';

const t0 = new Date(2024, 0, 2, 3, 4, 5).getTime();

function change(id: number, patch: Partial<ChangeWithBuildsJson> = {}): ChangeWithBuildsJson {
  return {
    id,
    source: 'main-repo',
    repository: 'https://example.org/repo.git',
    branch: 'main',
    revision: `${String(id).padStart(2, '0')}${'ab'.repeat(19)}`,
    author: 'Ada Lovelace <ada@example.org>',
    committer: 'Ada Lovelace <ada@example.org>',
    message: 'Fix the parser\n\nThe long story.',
    files: ['src/parser.c'],
    when: t0,
    via: 'poll',
    received_at: t0,
    builds: [],
    ...patch,
  };
}

describe('change tables', () => {
  it('lists changes with short revision, subject and builds', () => {
    const text = formatChangesTable([
      change(12, {
        branch: 'feature/x',
        message: `${'Very long subject '.repeat(5)}\nbody`,
        builds: [
          { id: 40, builder: 'unix-tests', number: 7, state: 'finished', result: 'SUCCESS' },
          { id: 41, builder: 'mac-build', number: 3, state: 'running', result: null },
        ],
      }),
      change(11, { author: 'bob@example.org' }),
    ]);
    expect(text.split('\n')).toEqual([
      'ID  REVISION  BRANCH     AUTHOR           MESSAGE                                             BUILDS',
      '12  12ababab  feature/x  Ada Lovelace     Very long subject Very long subject Very long sub…  unix-tests#7 SUCCESS, mac-build#3 running',
      '11  11ababab  main       bob@example.org  Fix the parser',
      '',
    ]);
  });

  it('prints nothing for an empty blamelist and one change in the singular', () => {
    expect(formatBlamelist([])).toBe('');
    expect(formatBlamelist([change(5)]).split('\n')).toEqual([
      'blamelist (1 change):',
      '  CHANGE  REVISION  AUTHOR        MESSAGE',
      '  5       05ababab  Ada Lovelace  Fix the parser',
      '',
    ]);
  });
});
