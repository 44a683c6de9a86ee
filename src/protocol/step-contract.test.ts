import { describe, expect, it } from 'vitest';
import { formatBytes, globMatcher, globProblem, parseStepProperties, planUploads } from './step-contract.js';

describe('globs', () => {
  it('match within a segment, across segments and one character', () => {
    const m = (glob: string, name: string) => globMatcher(glob)(name);
    expect(m('*.log', 'config.log')).toBe(true);
    expect(m('*.log', 'build/config.log')).toBe(false);
    expect(m('build/*.log', 'build/config.log')).toBe(true);
    expect(m('**/*.log', 'config.log')).toBe(true);
    expect(m('**/*.log', 'a/b/c/config.log')).toBe(true);
    expect(m('a/**/x.xml', 'a/x.xml')).toBe(true);
    expect(m('a/**/x.xml', 'a/b/c/x.xml')).toBe(true);
    expect(m('a/**', 'a/b/c')).toBe(true);
    expect(m('test-?.xml', 'test-1.xml')).toBe(true);
    expect(m('test-?.xml', 'test-12.xml')).toBe(false);
    // Regular-expression characters are literal.
    expect(m('a+b(1).txt', 'a+b(1).txt')).toBe(true);
    expect(m('a.txt', 'abtxt')).toBe(false);
    expect(m('./out/*.txt', 'out/x.txt')).toBe(true);
  });

  it('refuse absolute globs, ".." and NUL, naming the glob', () => {
    expect(globProblem('/etc/*')).toMatch(/"\/etc\/\*" is absolute/);
    expect(globProblem('../secrets/*')).toMatch(/"\.\.\/secrets\/\*" reaches outside/);
    expect(globProblem('a/../../b')).toMatch(/reaches outside/);
    expect(globProblem('a\0b')).toMatch(/NUL/);
    expect(globProblem('a..b/*.log')).toBeNull();
  });
});

describe('planUploads', () => {
  const files = [
    { name: 'a', path: '/a', size: 10 },
    { name: 'b', path: '/b', size: 200 },
    { name: 'c', path: '/c', size: 50 },
    { name: 'd', path: '/d', size: 45 },
  ];

  it('skips files over the per-file limit and past the total, in name order', () => {
    const planned = planUploads({ kind: 'artifact', max_file_bytes: 100, max_total_bytes: 100 }, files);
    expect(planned.map((f) => [f.name, f.skip ?? 'send'])).toEqual([
      ['a', 'send'],
      ['b', 'larger than the limit of 100 B per file'],
      ['c', 'send'],
      ['d', "past the step's limit of 100 B for its artifact files"],
    ]);
  });

  it('formats sizes readably', () => {
    expect([formatBytes(0), formatBytes(1536), formatBytes(100 * 1024 * 1024), formatBytes(1.5 * 1024 ** 3)]).toEqual(['0 B', '1.5 KiB', '100 MiB', '1.5 GiB']);
  });
});

describe('parseStepProperties', () => {
  it('takes NAME=value lines, the last one winning, and reports the others', () => {
    const text = [
      'got_revision=abc',
      'version=1.2=beta',
      'empty=',
      '# a comment',
      '',
      'crlf=x\r',
      'got_revision=def',
      'no equals sign',
      '1bad=x',
      '=x',
      'sp ace=x',
      `long=${'x'.repeat(10_001)}`,
      '__proto__=p',
    ].join('\n');
    const { properties, problems } = parseStepProperties(`${text}\n`);
    expect(properties).toEqual({ got_revision: 'def', version: '1.2=beta', empty: '', crlf: 'x', ['__proto__']: 'p' });
    expect(Object.getPrototypeOf(properties)).toBe(Object.prototype);
    expect(problems).toEqual([
      expect.stringMatching(/^\$SHEPHERD_STEP_DIR\/properties line 8 is not NAME=value/),
      expect.stringMatching(/line 9 is not NAME=value/),
      expect.stringMatching(/line 10 is not NAME=value/),
      expect.stringMatching(/line 11 is not NAME=value/),
      expect.stringMatching(/line 12: the value of long is longer than 10000 characters; it is ignored$/),
    ]);
  });
});
