import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JunitError, parseJunit, parseOutput, parsePytest, parseRegrtest, parseTap, parseUnittest, truncateMessage } from './index.js';
import { durationOf } from './regrtest.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** name → result, for compact assertions. */
function outcomes(tests: { name: string; result: string; rerun?: boolean }[]): Record<string, string> {
  return Object.fromEntries(tests.map((t) => [`${t.name}${t.rerun ? ' (rerun)' : ''}`, t.result]));
}

describe('truncateMessage', () => {
  it('keeps a short message whole and cuts a long one to its head and tail with a marker', () => {
    expect(truncateMessage('short\n')).toBe('short');
    expect(truncateMessage('   ')).toBeNull();
    const long = `HEAD${'x'.repeat(20_000)}TAIL`;
    const cut = truncateMessage(long)!;
    expect(cut.startsWith('HEADxxx')).toBe(true);
    expect(cut.endsWith('xxxTAIL')).toBe(true);
    expect(cut).toContain(`[... ${long.length - 8192} characters cut ...]`);
    expect(cut.length).toBeLessThan(8300);
  });
});

describe('parseJunit', () => {
  it('reads pytest --junitxml: classname.name, failure and error tracebacks, skips, times', () => {
    const tests = parseJunit(fixture('pytest-junit.xml'));
    expect(outcomes(tests)).toEqual({
      'tests.test_api.test_health': 'passed',
      'tests.test_api.TestBuilds.test_cancel': 'failed',
      'tests.test_db.test_connect': 'error',
      'tests.test_db.test_vacuum': 'skipped',
      'tests.test_db.test_empty': 'passed',
    });
    const cancel = tests.find((t) => t.name.endsWith('test_cancel'))!;
    expect(cancel).toMatchObject({ suite: 'pytest', durationMs: 250 });
    expect(cancel.message).toMatch(/^assert 409 == 202\n \+  where 409 = <Response \[409 Conflict\]>.status_code\nself = <tests.test_api.TestBuilds/);
    expect(cancel.message).toContain('tests/test_api.py:41: AssertionError');
    expect(tests.find((t) => t.name.endsWith('test_connect'))!.message).toContain('KeyError: \'DATABASE_URL\'');
    expect(tests.find((t) => t.name.endsWith('test_vacuum'))!.message).toBe('tests/test_db.py:22: needs PostgreSQL 16');
    expect(tests[0]!.message).toBeNull();
  });

  it("reads CPython regrtest's --junit-xml, whose names already carry the class", () => {
    const tests = parseJunit(fixture('regrtest-junit.xml'));
    expect(tests).toHaveLength(6);
    expect(tests[1]).toEqual({
      name: 'test.test_os.FileTests.test_fdopen',
      suite: null,
      result: 'failed',
      durationMs: 2,
      message: expect.stringContaining("AssertionError: b'\\x00' != b''"),
    });
    expect(outcomes(tests)['test.test_socket.RecvmsgUDP6Test.testRecvmsgPeek']).toBe('error');
    expect(tests[5]).toMatchObject({ result: 'skipped', message: 'VSOCK sockets required for this test.' });
  });

  it('reads a bare <testsuite>, nested suites, and a message-only failure', () => {
    const tests = parseJunit(
      '<testsuite name="outer"><testsuite name="inner"><testcase classname="C" name="a" time="1.5"><failure message="boom"/></testcase></testsuite>' +
        '<testcase name="b"/></testsuite>',
    );
    expect(tests).toEqual([
      { name: 'b', suite: 'outer', result: 'passed', durationMs: null, message: null },
      { name: 'C.a', suite: 'inner', result: 'failed', durationMs: 1500, message: 'boom' },
    ]);
  });

  it('says what is wrong with a document that is not JUnit XML', () => {
    expect(() => parseJunit('<testsuites><testsuite>')).toThrow(JunitError);
    expect(() => parseJunit('<testsuites><testsuite>')).toThrow(/not well-formed XML: .* \(line 1, column \d+\)/);
    expect(() => parseJunit('<html><body/></html>')).toThrow('no <testsuites> or <testsuite> element: not JUnit XML');
  });

  it('keeps the head and tail of a huge traceback', () => {
    const body = `Traceback (most recent call last):\n${'  File "x.py", line 1, in f\n'.repeat(2000)}RecursionError: too deep`;
    const [test] = parseJunit(`<testsuite><testcase name="t"><error message="too deep">${body}</error></testcase></testsuite>`);
    expect(test!.message!.startsWith('Traceback (most recent call last):')).toBe(true);
    expect(test!.message!.endsWith('RecursionError: too deep')).toBe(true);
    expect(test!.message).toMatch(/\[\.\.\. \d+ characters cut \.\.\.\]/);
  });
});

describe('parseRegrtest', () => {
  it('reads a parallel CPython 3.13 run with its re-run section', () => {
    const tests = parseRegrtest(fixture('regrtest-3.13-parallel.txt'));
    expect(outcomes(tests)).toEqual({
      test_abstract_numbers: 'passed',
      test_augassign: 'passed',
      test_bigaddrspace: 'skipped',
      test_devpoll: 'skipped',
      test_os: 'failed',
      test_asyncio: 'passed',
      test_socket: 'failed',
      test_ssl: 'passed',
      test_concurrent_futures: 'error',
      'test_os (rerun)': 'passed',
      'test_socket (rerun)': 'failed',
      'test_concurrent_futures (rerun)': 'passed',
    });
    const byKey = new Map(tests.map((t) => [`${t.name}${t.rerun ? '+' : ''}`, t]));
    expect(byKey.get('test_asyncio')!.durationMs).toBe(32_400);
    expect(byKey.get('test_concurrent_futures')).toMatchObject({ durationMs: 70_000, message: 'timed out' });
    expect(byKey.get('test_devpoll')!.message).toBe('test works only on Solaris OS family');
    expect(byKey.get('test_os')!.message).toContain("AssertionError: b'\\x00' != b''");
    expect(byKey.get('test_os')!.message).toMatch(/^1 failure\nFAIL: test_fdopen/);
    const socket = byKey.get('test_socket+')!;
    expect(socket.message).toContain('ERROR: testRecvmsgPeek (test.test_socket.RecvmsgUDP6Test.testRecvmsgPeek)');
    expect(socket.message).toContain('ERROR: testSendmsgTimeout');
    expect(socket.message).not.toContain('Ran 2 tests');
  });

  it('reads a sequential run: announced tests, "-- previous failed", summary lists', () => {
    const tests = parseRegrtest(fixture('regrtest-3.13-sequential.txt'));
    expect(outcomes(tests)).toEqual({ test_grp: 'passed', test_pwd: 'failed', test_time: 'passed', test_winreg: 'skipped' });
    expect(tests.find((t) => t.name === 'test_pwd')!.message).toContain('AssertionError: None is not an instance');
    expect(tests.find((t) => t.name === 'test_winreg')!.message).toBe("No module named 'winreg'");
  });

  it('trusts the failed list when the progress lines were lost, and leaves an interrupted run\'s last test out', () => {
    expect(outcomes(parseRegrtest('== Tests result: FAILURE ==\n\n2 tests failed:\n    test_a test_b\n'))).toEqual({ test_a: 'failed', test_b: 'failed' });
    expect(outcomes(parseRegrtest('0:00:00 load avg: 0.1 [1/2] test_a\n0:00:01 load avg: 0.1 [2/2] test_b -- test_a failed (env changed)\n'))).toEqual({
      test_a: 'failed',
    });
  });

  it('reads format_duration texts', () => {
    expect(durationOf('31.5 sec')).toBe(31_500);
    expect(durationOf('1 min 3 sec')).toBe(63_000);
    expect(durationOf('2 hour 1 min')).toBe(7_260_000);
    expect(durationOf('450 ms')).toBe(450);
    expect(durationOf('1 failure')).toBeNull();
  });
});

describe('parseUnittest', () => {
  it('reads verbose output: docstrings, output before the result, subtests, tracebacks', () => {
    const tests = parseUnittest(fixture('unittest-verbose.txt'));
    expect(outcomes(tests)).toEqual({
      'tests.test_config.ConfigTests.test_defaults': 'passed',
      'tests.test_config.ConfigTests.test_env_override': 'failed',
      'tests.test_config.ConfigTests.test_missing_file': 'passed',
      'tests.test_store.StoreTests.test_connect': 'error',
      'tests.test_store.StoreTests.test_big_values': 'skipped',
      'tests.test_store.StoreTests.test_known_bug': 'skipped',
      'tests.test_store.StoreTests.test_migrate': 'passed',
      'tests.test_store.StoreTests.test_rows': 'failed',
    });
    const env = tests.find((t) => t.name.endsWith('test_env_override'))!;
    expect(env.suite).toBe('tests.test_config.ConfigTests');
    expect(env.message).toMatch(/^FAIL: test_env_override .*\nTraceback[\s\S]*AssertionError: 8010 != 8080$/);
    expect(tests.find((t) => t.name.endsWith('test_connect'))!.message).toContain('sqlite3.OperationalError: unable to open database file');
    expect(tests.find((t) => t.name.endsWith('test_rows'))!.message).toContain('AssertionError: 1 != 2');
    expect(tests.find((t) => t.name.endsWith('test_rows'))!.message).not.toContain('Ran 8 tests');
    expect(tests.find((t) => t.name.endsWith('test_big_values'))!.message).toBe('needs 4 GB of memory');
  });

  it('reads the pre-3.11 form, where the parentheses hold the class only', () => {
    expect(parseUnittest('test_a (pkg.mod.Case) ... ok\ntest_b (pkg.mod.Case) ... FAIL\n')).toEqual([
      { name: 'pkg.mod.Case.test_a', suite: 'pkg.mod.Case', result: 'passed', durationMs: null, message: null },
      { name: 'pkg.mod.Case.test_b', suite: 'pkg.mod.Case', result: 'failed', durationMs: null, message: null },
    ]);
  });
});

describe('parsePytest', () => {
  it('reads verbose lines, the -rA summary, tracebacks and durations', () => {
    const tests = parsePytest(fixture('pytest-verbose.txt'));
    expect(outcomes(tests)).toEqual({
      'tests/test_api.py::test_health': 'passed',
      'tests/test_api.py::TestBuilds::test_list': 'passed',
      'tests/test_api.py::TestBuilds::test_cancel': 'failed',
      'tests/test_api.py::test_stream[utf-8]': 'passed',
      'tests/test_db.py::test_connect': 'error',
      'tests/test_db.py::test_vacuum': 'skipped',
      'tests/test_db.py::test_legacy': 'skipped',
    });
    const cancel = tests.find((t) => t.name.endsWith('test_cancel'))!;
    expect(cancel).toMatchObject({ suite: 'tests/test_api.py', durationMs: 250 });
    expect(cancel.message).toMatch(/^self = <tests.test_api.TestBuilds[\s\S]*tests\/test_api.py:41: AssertionError\nassert 409 == 202$/);
    expect(tests.find((t) => t.name.endsWith('test_connect'))!.message).toContain("E       KeyError: 'DATABASE_URL'");
    expect(tests.find((t) => t.name.endsWith('test_vacuum'))!.message).toBe('needs PostgreSQL 16');
    expect(tests.find((t) => t.name.endsWith('test_stream[utf-8]'))!.durationMs).toBe(510);
  });

  it('keeps the worse outcome of a test reported twice, and reads xdist lines', () => {
    const text = 'tests/t.py::test_a PASSED [ 50%]\ntests/t.py::test_a ERROR [ 50%]\n[gw1] [100%] FAILED tests/t.py::test_b\n';
    expect(outcomes(parsePytest(text))).toEqual({ 'tests/t.py::test_a': 'error', 'tests/t.py::test_b': 'failed' });
  });
});

describe('parseTap', () => {
  it('reads node --test output: subtests as suites, YAML diagnostics, SKIP and TODO', () => {
    const tests = parseTap(fixture('node-test.tap'));
    expect(tests.map((t) => [t.suite, t.name, t.result])).toEqual([
      ['config', 'reads defaults', 'passed'],
      ['config', 'rejects unknown keys', 'failed'],
      [null, 'network', 'skipped'],
      [null, 'parses dates', 'passed'],
      [null, 'formats sizes', 'skipped'],
    ]);
    expect(tests[0]!.durationMs).toBe(1);
    expect(tests[1]!.message).toContain("'unknown field' !== 'unknown key'");
    expect(tests[1]!.message!.startsWith('duration_ms: 3.5\n')).toBe(true);
    expect(tests[2]!.message).toBe('no network in the sandbox');
    expect(tests[4]!.message).toBe('TODO');
  });

  it('reads plain TAP 12: numbers without descriptions, Bail out!', () => {
    expect(parseTap('1..3\nok 1\nnot ok 2 first line \\# not a directive\nBail out! database gone\n')).toEqual([
      { name: 'test 1', suite: null, result: 'passed', durationMs: null, message: null },
      { name: 'first line # not a directive', suite: null, result: 'failed', durationMs: null, message: null },
      { name: 'Bail out!', suite: null, result: 'error', durationMs: null, message: 'database gone' },
    ]);
  });
});

describe('parseOutput', () => {
  it('strips colour codes and carriage returns before parsing', () => {
    const text = '\u001b[32mtests/t.py::test_a \u001b[32mPASSED\u001b[0m\u001b[32m [100%]\u001b[0m\r\n';
    expect(outcomes(parseOutput('pytest', text))).toEqual({ 'tests/t.py::test_a': 'passed' });
    expect(outcomes(parseOutput('tap', 'ok 1 - a\r\n'))).toEqual({ a: 'passed' });
  });
});
