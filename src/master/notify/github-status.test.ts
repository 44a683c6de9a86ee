import { describe, expect, it } from 'vitest';
import { finishedState, statusRequest, statusSha } from './github-status.js';

const cfg = { api_url: 'https://ghe.example.org/api/v3/', repository: 'acme/widget', token_env: 'T', context: 'shepherd/${builder}' };

describe('GitHub statuses', () => {
  it('maps results to states; RETRY leaves the commit pending', () => {
    expect(finishedState('SUCCESS')).toBe('success');
    expect(finishedState('WARNINGS')).toBe('success');
    expect(finishedState('FAILURE')).toBe('failure');
    expect(finishedState('EXCEPTION')).toBe('error');
    expect(finishedState('CANCELLED')).toBe('error');
    expect(finishedState('RETRY')).toBeNull();
  });

  it('puts the status on got_revision, else revision, else nowhere', () => {
    expect(statusSha({ properties: { revision: 'aaa', got_revision: 'bbb' } })).toBe('bbb');
    expect(statusSha({ properties: { revision: 'aaa' } })).toBe('aaa');
    expect(statusSha({ properties: { revision: '' } })).toBeNull();
  });

  it('builds the statuses URL and body', () => {
    const build = { builder: 'unix-tests', number: 7, result: null, properties: {} };
    expect(statusRequest(cfg, build, 'abc', 'pending', 'http://m/builds/3')).toEqual({
      url: 'https://ghe.example.org/api/v3/repos/acme/widget/statuses/abc',
      body: { state: 'pending', target_url: 'http://m/builds/3', description: '#7 running', context: 'shepherd/unix-tests' },
    });
    expect(statusRequest(cfg, { ...build, result: 'CANCELLED' }, 'abc', 'error', 'u').body.description).toBe('#7 was cancelled');
  });
});
