import { describe, expect, it } from 'vitest';
import { branchMatcher, pathMatcher } from './patterns.js';

describe('branchMatcher', () => {
  it('matches names exactly and globs across slashes', () => {
    const m = branchMatcher(['main', '3.*', 'release/*']);
    expect(['main', '3.13', '3.x', 'release/1', 'release/1/rc'].filter(m)).toEqual(['main', '3.13', '3.x', 'release/1', 'release/1/rc']);
    expect(['mainline', 'x3.1', '4.0', 'release'].filter(m)).toEqual([]);
  });
  it('treats regex characters literally', () => {
    expect(branchMatcher(['v1.0'])('v1x0')).toBe(false);
  });
});

describe('pathMatcher', () => {
  it('follows gitignore habits', () => {
    const m = pathMatcher(['Doc/**', '*.md']);
    expect(m('Doc/library/os.rst')).toBe(true);
    expect(m('README.md')).toBe(true);
    expect(m('Lib/test/README.md')).toBe(true);
    expect(m('Lib/os.py')).toBe(false);
    expect(m('Documentation/x')).toBe(false);
  });
  it('keeps * within one segment when the glob has a slash', () => {
    const m = pathMatcher(['Lib/*.py']);
    expect(m('Lib/os.py')).toBe(true);
    expect(m('Lib/test/test_os.py')).toBe(false);
  });
});
