import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findFiles, globMatcher, globProblem, planUploads } from './collect-files.js';
import { formatBytes } from './format-size.js';

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

describe('findFiles', () => {
  let root: string;
  let builder: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'shepherd-collect-'));
    builder = join(root, 'builder');
    mkdirSync(join(builder, 'src', 'out', 'deep'), { recursive: true });
    writeFileSync(join(builder, 'src', 'out', 'x.log'), 'x');
    writeFileSync(join(builder, 'src', 'out', 'deep', 'y.log'), 'yy');
    writeFileSync(join(builder, 'src', 'top.log'), 'top');
    writeFileSync(join(builder, 'outside-workdir.log'), 'inside the builder');
    writeFileSync(join(root, 'secret.txt'), 'not yours');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds regular files by glob, each once, sorted, with sizes', async () => {
    const cwd = join(builder, 'src');
    const { files, problems } = await findFiles(cwd, builder, ['**/*.log', 'out/*.log', 'top.log', 'nothing/*.log']);
    expect(files.map((f) => [f.name, f.size])).toEqual([
      ['out/deep/y.log', 2],
      ['out/x.log', 1],
      ['top.log', 3],
    ]);
    expect(problems).toEqual([]);
  });

  it('follows links only to files inside the builder directory, and never globs outside the workdir', async () => {
    const cwd = join(builder, 'src');
    symlinkSync(join(builder, 'outside-workdir.log'), join(cwd, 'ok-link.log'));
    symlinkSync(join(root, 'secret.txt'), join(cwd, 'escape.log'));
    symlinkSync(root, join(cwd, 'escape-dir'));
    const { files, problems } = await findFiles(cwd, builder, ['*.log', 'escape-dir/*.txt', '../*.log', '/etc/passwd']);
    expect(files.map((f) => [f.name, f.path])).toEqual([
      ['ok-link.log', join(builder, 'outside-workdir.log')],
      ['top.log', join(cwd, 'top.log')],
    ]);
    expect(problems).toEqual([
      'escape.log: a symbolic link pointing outside the builder directory; not collected',
      'escape-dir: a symbolic link pointing outside the builder directory; not searched',
      'glob "../*.log" reaches outside the step\'s working directory with ".."',
      'glob "/etc/passwd" is absolute; globs are relative to the step\'s working directory',
    ]);
  });
});
