import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collectEnv } from './rebuild.js';

describe('collectEnv', () => {
  it('collects NAME=VALUE pairs; the value may hold "=", a later name wins', () => {
    expect(collectEnv('B=2', collectEnv('A=x=y', collectEnv('B=1')))).toEqual({ A: 'x=y', B: '2' });
    expect(collectEnv('EMPTY=')).toEqual({ EMPTY: '' });
  });
  it('refuses what no shell could export, naming it', () => {
    expect(() => collectEnv('NOVALUE')).toThrow(InvalidArgumentError);
    expect(() => collectEnv('A-B=1')).toThrow('"A-B" is not an environment variable name');
    expect(() => collectEnv('1X=1')).toThrow('"1X" is not an environment variable name');
  });
});
