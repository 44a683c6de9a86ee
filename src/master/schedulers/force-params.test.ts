import { describe, expect, it } from 'vitest';
import { ForceTrigger } from '../config/schema.js';
import { ShepherdError } from '../errors.js';
import { validateForceParams } from './force-params.js';

const { params } = ForceTrigger.parse({
  params: {
    clean: { type: 'boolean' },
    fast: { type: 'boolean', default: true },
    mode: { type: 'choice', choices: ['debug', 'release'] },
    level: { type: 'choice', choices: ['1', '2', '3'], default: '2' },
    ticket: { type: 'string', required: true, pattern: '[A-Z]+-[0-9]+' },
    note: { type: 'string' },
    target: { type: 'string', default: 'all' },
  },
});

function failure(input: Record<string, unknown>, of = params): ShepherdError {
  try {
    validateForceParams(of, input);
  } catch (error) {
    expect(error).toBeInstanceOf(ShepherdError);
    return error as ShepherdError;
  }
  throw new Error('expected a validation error');
}

describe('validateForceParams', () => {
  it('applies defaults and returns every value as a string', () => {
    expect(validateForceParams(params, { ticket: 'BPO-1' })).toEqual({
      clean: 'false',
      fast: 'true',
      mode: 'debug',
      level: '2',
      ticket: 'BPO-1',
      note: '',
      target: 'all',
    });
  });

  it('takes given values', () => {
    expect(validateForceParams(params, { clean: 'true', fast: false, mode: 'release', level: '3', ticket: 'X-9', note: 'hi', target: '' })).toMatchObject({
      clean: 'true',
      fast: 'false',
      mode: 'release',
      level: '3',
      note: 'hi',
      target: '',
    });
  });

  it('treats null as not given', () => {
    expect(validateForceParams(params, { ticket: 'A-1', mode: null }).mode).toBe('debug');
  });

  it('refuses unknown parameters, naming them and the known ones', () => {
    const error = failure({ ticket: 'A-1', colour: 'red' });
    expect(error.code).toBe('SHEPHERD_E_VALIDATION');
    expect(error.details).toEqual({ field: 'params.colour' });
    expect(error.message).toMatch(/"colour".*expected one of clean, fast, mode, level, ticket, note, target/);
    expect(failure({ x: 1 }, {}).message).toMatch(/takes no parameters/);
  });

  it('checks booleans', () => {
    for (const bad of ['yes', 1, 'TRUE', []]) {
      const error = failure({ ticket: 'A-1', clean: bad });
      expect(error.details).toEqual({ field: 'params.clean' });
      expect(error.message).toMatch(/true or false/);
    }
  });

  it('checks choices', () => {
    const error = failure({ ticket: 'A-1', mode: 'fast' });
    expect(error.details).toEqual({ field: 'params.mode' });
    expect(error.message).toContain('one of debug, release, got "fast"');
    expect(failure({ ticket: 'A-1', level: 2 }).details).toEqual({ field: 'params.level' });
  });

  it('checks required strings', () => {
    for (const input of [{}, { ticket: '' }]) {
      const error = failure(input);
      expect(error.details).toEqual({ field: 'params.ticket' });
      expect(error.message).toMatch(/required/);
    }
  });

  it('checks string types', () => {
    const error = failure({ ticket: 'A-1', note: 5 });
    expect(error.details).toEqual({ field: 'params.note' });
    expect(error.message).toMatch(/expects a string, got 5/);
  });

  it('matches the pattern against the whole value', () => {
    for (const bad of ['a-1', 'ABC-1x', 'xABC-1', 'ABC-']) {
      const error = failure({ ticket: bad });
      expect(error.details).toEqual({ field: 'params.ticket' });
      expect(error.message).toContain('must match the pattern [A-Z]+-[0-9]+');
    }
    // Alternatives are anchored as a whole, not just the first one.
    const alt = ForceTrigger.parse({ params: { p: { type: 'string', pattern: 'a|b' } } }).params;
    expect(validateForceParams(alt, { p: 'b' })).toEqual({ p: 'b' });
    expect(() => validateForceParams(alt, { p: 'ab' })).toThrow(/pattern/);
  });
});
