import { describe, expect, it } from 'vitest';
import type { ChangeWithBuildsJson } from '../api/client.js';
import { authorName, blameAuthorsByBuild, parseCursor, shortRevision } from './build-list.js';

function change(id: number, author: string, builds: number[]): ChangeWithBuildsJson {
  return {
    id,
    source: 's',
    repository: 'r',
    branch: 'main',
    revision: `rev${id}`,
    author,
    committer: author,
    message: 'm',
    files: [],
    when: id,
    via: 'poll',
    received_at: id,
    builds: builds.map((b) => ({ id: b, builder: 'x', number: b, state: 'finished', result: 'SUCCESS' })),
  };
}

describe('build list helpers', () => {
  it('shortens revisions', () => {
    expect(shortRevision('658a1c06a4bc5a8a9bafdaa52438e25b9389eff9')).toBe('658a1c06a4');
    expect(shortRevision(null)).toBe('');
  });

  it('takes the name out of an author', () => {
    expect(authorName('Jane Doe <jane@example.org>')).toBe('Jane Doe');
    expect(authorName('<jane@example.org>')).toBe('<jane@example.org>');
    expect(authorName('jane')).toBe('jane');
  });

  it('collects distinct authors per build, oldest change first', () => {
    const changes = [change(3, 'Bob <b@x>', [7]), change(2, 'Ann <a@x>', [7, 5]), change(1, 'Bob <b@x>', [7])];
    const authors = blameAuthorsByBuild(changes);
    expect(authors.get(7)).toEqual(['Bob', 'Ann']);
    expect(authors.get(5)).toEqual(['Ann']);
    expect(authors.get(1)).toBeUndefined();
  });

  it('reads the page cursor', () => {
    expect(parseCursor('42')).toBe(42);
    expect(parseCursor(null)).toBeUndefined();
    expect(parseCursor('0')).toBeUndefined();
    expect(parseCursor('-3')).toBeUndefined();
    expect(parseCursor('4x')).toBeUndefined();
  });
});
