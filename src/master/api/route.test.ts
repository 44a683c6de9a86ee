import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ShepherdError } from '../errors.js';
import { parseInput } from './route.js';
import { ForceBody, LogQuery } from './schemas.js';

function failure(run: () => unknown): ShepherdError {
  try {
    run();
  } catch (error) {
    if (error instanceof ShepherdError) return error;
    throw error;
  }
  throw new Error('expected a ShepherdError');
}

describe('parseInput', () => {
  it('returns the parsed value with defaults applied', () => {
    expect(parseInput(ForceBody, undefined, 'body')).toEqual({});
    expect(parseInput(LogQuery, { follow: '1' }, 'query')).toEqual({ start: 0, follow: true });
  });

  it('names nested fields with array indexes', () => {
    const schema = z.object({ items: z.array(z.object({ n: z.number() })) });
    const error = failure(() => parseInput(schema, { items: [{ n: 1 }, { n: 'x' }] }, 'body'));
    expect(error.code).toBe('SHEPHERD_E_VALIDATION');
    expect(error.message).toBe('items[1].n: expected number');
    expect(error.details).toEqual({ field: 'items[1].n' });
  });

  it('names the part when the whole value is wrong, and lists further problems', () => {
    expect(failure(() => parseInput(ForceBody, 'text', 'body')).message).toBe('body: expected object');
    const error = failure(() => parseInput(ForceBody, { reason: '', priority: 1.5 }, 'body'));
    expect(error.message).toBe('reason: expected length >= 1');
    expect(error.details?.problems).toHaveLength(2);
  });
});
