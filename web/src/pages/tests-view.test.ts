import { describe, expect, it } from 'vitest';
import { formatBytes, isFailed, quarantineNote, separationText, splitMessage, testBadges, testDuration, testPath } from './tests-view.js';

describe('testPath', () => {
  it('keeps the whole name in one segment', () => {
    expect(testPath('test_math.test_add')).toBe('/tests/test_math.test_add');
    expect(testPath('tests/t.py::test_a[x y]')).toBe('/tests/tests%2Ft.py%3A%3Atest_a%5Bx%20y%5D');
  });
});

describe('splitMessage', () => {
  it('shows the first line and folds the traceback', () => {
    expect(splitMessage('expected 2, got 3\nTraceback: assert 2 == 3\n')).toEqual({ head: 'expected 2, got 3', rest: 'Traceback: assert 2 == 3' });
    expect(splitMessage('\nAssertionError')).toEqual({ head: 'AssertionError', rest: '' });
    expect(splitMessage(null)).toEqual({ head: '', rest: '' });
  });
});

describe('badges and results', () => {
  it('lists flaky, re-run and quarantined in that order', () => {
    expect(testBadges({ flaky: true, rerun: true, quarantined: true }).map((b) => b.label)).toEqual(['flaky', 're-run', 'quarantined']);
    expect(testBadges({ flaky: false, rerun: false, quarantined: false })).toEqual([]);
    expect(['failed', 'error', 'skipped', 'passed'].map((r) => isFailed(r as 'failed'))).toEqual([true, true, false, false]);
  });
});

describe('quarantineNote', () => {
  it('says how many quarantined tests failed and what their step came to', () => {
    expect(quarantineNote(0, [])).toBeNull();
    expect(quarantineNote(2, ['WARNINGS'])).toBe('2 quarantined tests failed; the step is WARNINGS');
    expect(quarantineNote(1, ['FAILURE'])).toBe('1 quarantined test failed; the step is FAILURE');
    expect(quarantineNote(3, ['WARNINGS', 'WARNINGS'])).toBe('3 quarantined tests failed; the steps are WARNINGS');
    expect(quarantineNote(3, ['WARNINGS', 'FAILURE'])).toBe('3 quarantined tests failed; the steps are WARNINGS or FAILURE');
    expect(quarantineNote(1200, [null])).toBe("1,200 quarantined tests failed; their failures do not count against the step");
  });
});

describe('sizes, durations, separation', () => {
  it('formats as the CLI does', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(200_000)).toBe('195.3 KiB');
    expect(formatBytes(2_000_000)).toBe('1.9 MiB');
    expect(testDuration(null)).toBe('');
    expect(testDuration(10)).toBe('10 ms');
    expect(testDuration(1234)).toBe('1.23 s');
  });
  it('says so when no dimension separates the workers', () => {
    const base = { revision: 'r', failing_workers: ['a'], passing_workers: ['b'], values: [], keys: [] };
    expect(separationText({ ...base, sentence: 'fails only where arch=s390x' })).toBe('fails only where arch=s390x');
    expect(separationText({ ...base, sentence: null })).toMatch(/^no dimension separates/);
  });
});
