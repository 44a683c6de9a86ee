import { describe, expect, it } from 'vitest';
import { codeChanged, flakyTests, flipsWithoutCodeChange, type TestRunFacts } from './flaky.js';
import { testPlatform } from './platform.js';
import { quarantined, testMatches } from './quarantine.js';
import { shellQuote } from '../checkout/shell-quote.js';
import { rerunCommand } from './rerun.js';
import { separatingDimensions } from './separation.js';
import { countText, stepResultWithTests } from './step-result.js';
import type { TestResult } from './types.js';

let nextId = 1;
function run(more: Partial<TestRunFacts>): TestRunFacts {
  return { id: nextId++, buildId: 1, name: 'test_os', revision: 'abc', builder: 'linux', worker: 'w1', platform: 'linux-x86_64', result: 'failed', rerun: false, ...more };
}

describe('flakyTests', () => {
  it('finds a test that failed and passed at one revision on the same worker, platform, or on re-run', () => {
    const sameWorker = [run({ name: 'a' }), run({ name: 'a', result: 'passed', buildId: 2 })];
    const samePlatform = [run({ name: 'b', worker: 'w1' }), run({ name: 'b', worker: 'w2', builder: 'other', result: 'passed', buildId: 2 })];
    const rerun = [run({ name: 'c' }), run({ name: 'c', result: 'passed', rerun: true, worker: 'w1' })];
    const found = flakyTests([...sameWorker, ...samePlatform, ...rerun]);
    expect(found.map((f) => [f.name, f.reason])).toEqual([
      ['a', 'same worker'],
      ['b', 'same platform'],
      ['c', 'passed on re-run'],
    ]);
    expect(found[0]!.ids).toEqual(sameWorker.map((r) => r.id));
  });

  it('does not call a platform-specific failure flaky, nor results at different revisions', () => {
    const platformBug = [
      run({ worker: 'z1', platform: 'linux-s390x' }),
      run({ worker: 'w1', platform: 'linux-x86_64', result: 'passed', buildId: 2 }),
    ];
    const revisions = [run({ name: 'd', revision: 'abc' }), run({ name: 'd', revision: 'def', result: 'passed' })];
    const skipped = [run({ name: 'e' }), run({ name: 'e', result: 'skipped' })];
    expect(flakyTests([...platformBug, ...revisions, ...skipped, run({ revision: null, result: 'passed' })])).toEqual([]);
  });

  it('falls back to the same builder when a platform is unknown', () => {
    const found = flakyTests([run({ platform: null, worker: 'a' }), run({ platform: null, worker: 'b', result: 'passed' })]);
    expect(found.map((f) => f.reason)).toEqual(['same builder']);
  });
});

describe('separatingDimensions', () => {
  const x86 = { os: 'linux', arch: 'x86_64', libc: 'glibc' };
  it('names the value every failing worker has and no passing one has', () => {
    const s390 = { os: 'linux', arch: 's390x', libc: 'glibc', endian: 'big' };
    const result = separatingDimensions([s390, { ...s390 }], [x86, { ...x86, os: 'linux' }]);
    expect(result.values).toEqual([
      { key: 'arch', value: 's390x' },
      { key: 'endian', value: 'big' },
    ]);
    expect(result.sentence).toBe('fails only where arch=s390x (and equally where endian=big)');
  });

  it('names a key whose values never meet, and says when nothing separates', () => {
    const result = separatingDimensions([{ arch: 's390x', libc: 'glibc' }, { arch: 'ppc64le', libc: 'musl' }], [x86, { arch: 'aarch64', libc: 'musl' }]);
    expect(result.values).toEqual([]);
    expect(result.keys).toEqual([{ key: 'arch', failing: ['ppc64le', 's390x'], passing: ['aarch64', 'x86_64'] }]);
    expect(result.sentence).toBe('fails only where arch is ppc64le or s390x (passes where arch is aarch64 or x86_64)');
    expect(separatingDimensions([x86], [{ ...x86 }]).sentence).toBeNull();
    expect(separatingDimensions([x86], []).sentence).toBeNull();
  });

  it('counts a missing key as unset', () => {
    expect(separatingDimensions([{ os: 'linux', libc: 'musl' }], [{ os: 'linux' }]).sentence).toBe('fails only where libc=musl');
  });
});

describe('quarantine', () => {
  const entries = [
    { test: 'test.test_ssl.*', reason: 'certificates expire' },
    { test: 'test_os', builders: ['s390x'], reason: 'bpo-1234' },
  ];
  it('matches names and globs, on every builder or the listed ones', () => {
    expect(quarantined('test.test_ssl.ThreadedTests.test_echo', 'linux', entries)?.reason).toBe('certificates expire');
    expect(quarantined('test_os', 's390x', entries)?.reason).toBe('bpo-1234');
    expect(quarantined('test_os', 'linux', entries)).toBeUndefined();
    expect(testMatches('tests/*::test_?', 'tests/a/b.py::test_x')).toBe(true);
    expect(testMatches('test.x', 'testyx')).toBe(false);
  });
});

describe('rerunCommand', () => {
  it('replaces {tests} with the names, quoted for /bin/sh when they need it', () => {
    expect(rerunCommand('./python -m test -v {tests}', ['test_os', 'test_socket'])).toBe('./python -m test -v test_os test_socket');
    expect(rerunCommand('pytest {tests}', ['tests/t.py::test_a[x y]', "it's"])).toBe(`pytest 'tests/t.py::test_a[x y]' 'it'\\''s'`);
    expect(shellQuote('$(rm -rf /)')).toBe("'$(rm -rf /)'");
  });
});

function test(name: string, result: TestResult['result'], rerun = false): TestResult {
  return { name, suite: null, result, durationMs: null, message: null, ...(rerun ? { rerun } : {}) };
}

describe('stepResultWithTests', () => {
  const many = Array.from({ length: 4123 }, (_, i) => test(`test_${i}`, 'passed'));

  it('keeps FAILURE and says "3 failed of 4,126" naming them', () => {
    const decision = stepResultWithTests({
      processResult: 'FAILURE',
      processSummary: 'exit code 2',
      tests: [...many, test('test_a', 'failed'), test('test_b', 'error'), test('test_c', 'failed')],
      builder: 'linux',
      quarantine: [],
    });
    expect(decision).toMatchObject({ result: 'FAILURE', failedTests: ['test_a', 'test_b', 'test_c'], total: 4126, failed: 3 });
    expect(decision.summary).toBe('3 failed of 4,126: test_a, test_b, test_c [exit code 2]');
  });

  it('makes a step failing only on quarantined tests WARNINGS, saying so', () => {
    const decision = stepResultWithTests({
      processResult: 'FAILURE',
      processSummary: 'exit code 1',
      tests: [...many, test('test_ssl', 'failed')],
      builder: 'linux',
      quarantine: [{ test: 'test_ssl', reason: 'certificates expire' }],
    });
    expect(decision).toMatchObject({ result: 'WARNINGS', failedTests: [], quarantined: [{ name: 'test_ssl', reason: 'certificates expire' }] });
    expect(decision.summary).toBe('1 failed of 4,124; all quarantined: test_ssl (certificates expire)');
  });

  it('makes a step whose failures passed on re-run WARNINGS, and those tests flaky', () => {
    const inline = stepResultWithTests({
      processResult: 'FAILURE',
      tests: [test('test_os', 'failed'), test('test_sys', 'passed'), test('test_os', 'passed', true)],
      builder: 'linux',
      quarantine: [],
    });
    expect(inline).toMatchObject({ result: 'WARNINGS', flaky: ['test_os'], failedTests: [], summary: '1 failed of 2; all passed on re-run (flaky): test_os' });
    const separate = stepResultWithTests({
      processResult: 'FAILURE',
      processSummary: 'exit code 1',
      tests: [test('a', 'failed'), test('b', 'failed')],
      rerun: [test('a', 'passed'), test('b', 'failed')],
      builder: 'linux',
      quarantine: [],
    });
    expect(separate).toMatchObject({ result: 'FAILURE', flaky: ['a'], failedTests: ['b'] });
    expect(separate.summary).toBe('2 failed of 2: b; 1 passed on re-run (flaky): a [exit code 1]');
  });

  it('keeps a FAILURE the tests do not explain (killed), and a step without tests as it was', () => {
    expect(
      stepResultWithTests({ processResult: 'FAILURE', processSummary: 'no output for 20m: killed', tests: [test('a', 'failed')], builder: 'l', quarantine: [{ test: 'a', reason: 'r' }] })
        .result,
    ).toBe('FAILURE');
    expect(stepResultWithTests({ processResult: 'FAILURE', processSummary: 'exit code 1', tests: [], builder: 'l', quarantine: [] })).toMatchObject({
      result: 'FAILURE',
      summary: 'exit code 1',
    });
    expect(stepResultWithTests({ processResult: 'SUCCESS', tests: [test('a', 'passed'), test('b', 'skipped')], builder: 'l', quarantine: [] }).summary).toBe(
      '0 failed of 2 (1 skipped)',
    );
    expect(countText(1234567, 2)).toBe('1,234,567 failed of 2');
  });
});

describe('testPlatform', () => {
  it('is the configured platform, else the dimensions themselves', () => {
    const platforms = [{ name: 'linux-x86_64', select: { os: 'linux', arch: 'x86_64' }, tier: 1 }];
    expect(testPlatform(platforms, { os: 'linux', arch: 'x86_64' })).toBe('linux-x86_64');
    expect(testPlatform(platforms, { os: 'linux', arch: 's390x' })).toBe('arch=s390x os=linux');
    expect(testPlatform([], {})).toBeNull();
  });
});

describe('flips without a code change', () => {
  const run = (id: number, buildId: number, result: 'passed' | 'failed', platform: string | null = 'linux') => ({
    id, buildId, name: 't', revision: `r${buildId}`, builder: 'b', worker: 'w', platform, result, rerun: false,
  });

  it('pairs a pass and a failure of consecutive builds on one platform, only when no code changed', () => {
    expect(flipsWithoutCodeChange([run(1, 1, 'passed')], [run(2, 2, 'failed')], false)).toEqual([{ name: 't', revision: 'r2', reason: 'no code change', ids: [1, 2] }]);
    expect(flipsWithoutCodeChange([run(1, 1, 'passed')], [run(2, 2, 'failed')], true)).toEqual([]);
    expect(flipsWithoutCodeChange([run(1, 1, 'failed')], [run(2, 2, 'failed')], false)).toEqual([]);
    expect(flipsWithoutCodeChange([run(1, 1, 'passed', 'mac')], [run(2, 2, 'failed')], false)).toEqual([]);
  });

  it('counts a change as code unless a scheduler of the builder says its files do not matter', () => {
    const docsIgnored = (change: { files: string[] }) => change.files.some((f) => !f.startsWith('Doc/'));
    expect(codeChanged([{ files: ['Doc/a.rst'] }], [docsIgnored])).toBe(false);
    expect(codeChanged([{ files: ['Doc/a.rst', 'src/x.c'] }], [docsIgnored])).toBe(true);
    expect(codeChanged([], [docsIgnored])).toBe(true);
    expect(codeChanged([{ files: ['Doc/a.rst'] }], [])).toBe(true);
  });
});
