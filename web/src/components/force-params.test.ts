import { describe, expect, it } from 'vitest';
import type { SchedulerJson } from '../api/client.js';
import { errorField, forceSchedulersFor, paramDefaults, plainForceBody, schedulerForceBody, type ForceParams } from './force-params.js';

const params: ForceParams = {
  verbose: { type: 'boolean', default: false },
  fast: { type: 'boolean', default: true },
  mode: { type: 'choice', choices: ['debug', 'release'] },
  level: { type: 'choice', choices: ['1', '2', '3'], default: '2' },
  branch: { type: 'string', default: 'main' },
  note: { type: 'string' },
};

describe('force form', () => {
  it('fills every parameter with its default', () => {
    expect(paramDefaults(params)).toEqual({ verbose: false, fast: true, mode: 'debug', level: '2', branch: 'main', note: '' });
    expect(paramDefaults(undefined)).toEqual({});
  });

  it('sends one builder, every parameter of the scheduler and a trimmed reason', () => {
    const values = { ...paramDefaults(params), verbose: true, stale: 'from another scheduler' };
    expect(schedulerForceBody('hello', params, values, '  retest  ')).toEqual({
      builders: ['hello'],
      params: { verbose: true, fast: true, mode: 'debug', level: '2', branch: 'main', note: '' },
      reason: 'retest',
    });
  });

  it('leaves out an empty reason (the API wants a non-empty one or none)', () => {
    expect(schedulerForceBody('hello', undefined, {}, '   ')).toEqual({ builders: ['hello'], params: {} });
    expect(plainForceBody('')).toEqual({});
    expect(plainForceBody(' why ')).toEqual({ reason: 'why' });
  });

  it('picks the force schedulers that cover the builder', () => {
    const schedulers: SchedulerJson[] = [
      { name: 'z-force', kind: 'force', builders: ['hello', 'other'] },
      { name: 'nightly', kind: 'nightly', builders: ['hello'] },
      { name: 'a-force', kind: 'force', builders: ['hello'] },
      { name: 'elsewhere', kind: 'force', builders: ['other'] },
    ];
    expect(forceSchedulersFor(schedulers, 'hello').map((s) => s.name)).toEqual(['a-force', 'z-force']);
  });

  it('maps a validation error to the field it names', () => {
    expect(errorField({ details: { field: 'params.mode' } })).toEqual({ param: 'mode' });
    expect(errorField({ details: { field: 'reason' } })).toEqual({ field: 'reason' });
    expect(errorField({ details: { field: 'builders' } })).toBeNull();
    expect(errorField({ details: {} })).toBeNull();
  });
});
