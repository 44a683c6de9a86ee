import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';

function config(step: Record<string, unknown>, more: Record<string, unknown> = {}) {
  return {
    workers: [{ name: 'w1', secret_env: 'W1' }],
    builders: [{ name: 'linux', workers: ['w1'], steps: [{ name: 'test', run: 'make test', ...step }] }],
    ...more,
  };
}

/** The one-line problem parseConfig reports. */
function problem(raw: unknown): string {
  try {
    parseConfig(raw, 'shepherd.yml');
  } catch (error) {
    return (error as Error).message;
  }
  return 'accepted';
}

describe('test_results, rerun_failed and quarantine in the config', () => {
  it('accepts junit globs, a parser, a re-run template and quarantine lists', () => {
    const parsed = parseConfig(
      config(
        { test_results: { junit: ['build/test-*.xml'] }, rerun_failed: './python -m test -v {tests}' },
        { master: { quarantine: [{ test: 'test.test_ssl.*', reason: 'certs', builders: ['linux'] }] } },
      ),
      'shepherd.yml',
    );
    expect(parsed.builders[0]!.steps[0]).toMatchObject({ test_results: { junit: ['build/test-*.xml'] }, rerun_failed: './python -m test -v {tests}' });
    expect(parsed.master.quarantine).toEqual([{ test: 'test.test_ssl.*', reason: 'certs', builders: ['linux'] }]);
    expect(parseConfig(config({ test_results: { parse: 'regrtest' } }), 'x.yml').builders[0]!.quarantine).toBeUndefined();
  });

  it('names the field and what was expected', () => {
    expect(problem(config({ test_results: {} }))).toMatch(/builders\[0\]\.steps\[0\]\.test_results: expected one of junit or parse/);
    expect(problem(config({ test_results: { junit: 'a.xml', parse: 'tap' } }))).toMatch(/test_results: expected only one of junit or parse/);
    expect(problem(config({ test_results: { parse: 'nose' } }))).toMatch(/test_results\.parse: .*regrtest.*unittest.*pytest.*tap/);
    expect(problem(config({ test_results: { junti: 'a.xml' } }))).toMatch(/test_results/);
    expect(problem(config({ rerun_failed: 'pytest {tests}' }))).toMatch(/steps\[0\]\.rerun_failed: needs test_results/);
    expect(problem(config({ test_results: { parse: 'pytest' }, rerun_failed: 'pytest --lf' }))).toMatch(/rerun_failed: expected \{tests\}/);
    expect(problem(config({}, { master: { quarantine: [{ test: 'a', reason: 'r', builders: ['nope'] }] } }))).toMatch(
      /master\.quarantine\[0\]\.builders\[0\]: no builder named "nope"/,
    );
    expect(problem(config({}, { master: { quarantine: [{ test: 'a' }] } }))).toMatch(/master\.quarantine\[0\]\.reason/);
  });
});
