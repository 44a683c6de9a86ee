import { describe, expect, it } from 'vitest';
import { allTags, filterBuilders } from './builder-filter.js';

const builders = [
  { name: 'cpython-debug', tags: ['linux', 'tier-1'] },
  { name: 'cpython-release', tags: ['linux'] },
  { name: 'docs', tags: ['Docs'] },
];

describe('builder filter', () => {
  it('keeps everything without filters', () => {
    expect(filterBuilders(builders, { q: '', tag: '' })).toEqual(builders);
  });

  it('matches the text in names and tags, ignoring case', () => {
    expect(filterBuilders(builders, { q: 'DEBUG', tag: '' }).map((b) => b.name)).toEqual(['cpython-debug']);
    expect(filterBuilders(builders, { q: 'tier', tag: '' }).map((b) => b.name)).toEqual(['cpython-debug']);
    expect(filterBuilders(builders, { q: ' docs ', tag: '' }).map((b) => b.name)).toEqual(['docs']);
  });

  it('needs the exact tag, combined with the text', () => {
    expect(filterBuilders(builders, { q: '', tag: 'linux' }).map((b) => b.name)).toEqual(['cpython-debug', 'cpython-release']);
    expect(filterBuilders(builders, { q: 'release', tag: 'linux' }).map((b) => b.name)).toEqual(['cpython-release']);
    expect(filterBuilders(builders, { q: '', tag: 'docs' })).toEqual([]);
  });

  it('lists the tags once, sorted', () => {
    expect(allTags(builders)).toEqual(['Docs', 'linux', 'tier-1']);
  });
});
