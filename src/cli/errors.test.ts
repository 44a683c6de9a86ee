import { describe, expect, it } from 'vitest';
import { ShepherdError } from '../master/errors.js';
import { CliError, describeFailure, usageError } from './errors.js';
import { oneLineUsageError } from './program.js';

describe('describeFailure', () => {
  it('reports an API error as one line with its code, exit 1', () => {
    expect(describeFailure(new CliError('no builder named "x"', { code: 'SHEPHERD_E_NOT_FOUND' }))).toEqual({
      lines: ['shepherd: no builder named "x" (SHEPHERD_E_NOT_FOUND)'],
      exitCode: 1,
    });
  });

  it('gives usage errors exit 2', () => {
    expect(describeFailure(usageError('--master: bad')).exitCode).toBe(2);
  });

  it('keeps one line per config problem', () => {
    const error = new ShepherdError('SHEPHERD_E_CONFIG', 'a.yml: workers[0].name: bad\na.yml: builders: bad');
    expect(describeFailure(error)).toEqual({
      lines: ['shepherd: a.yml: workers[0].name: bad', 'shepherd: a.yml: builders: bad (SHEPHERD_E_CONFIG)'],
      exitCode: 1,
    });
  });

  it('reports anything else plainly', () => {
    expect(describeFailure(new Error('boom')).lines).toEqual(['shepherd: boom']);
  });
});

describe('oneLineUsageError', () => {
  it("folds commander's message into one line", () => {
    expect(oneLineUsageError("error: unknown option '--jsno'\n(Did you mean --json?)\n")).toBe(
      "shepherd: unknown option '--jsno' (Did you mean --json?)\n",
    );
  });
});
