import { describe, expect, it } from 'vitest';
import { hashSecret, matchesHash, newSecret, secretsEqual } from './secrets.js';
import { refusalOf, WorkerCredentials } from './workers/credentials.js';

describe('secrets', () => {
  it('compares secrets without regard to their lengths, and never matches an empty one', () => {
    expect(secretsEqual('abc', 'abc')).toBe(true);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', '')).toBe(false);
  });

  it('checks a secret against its stored hash', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newSecret()).not.toBe(secret);
    expect(matchesHash(secret, hashSecret(secret))).toBe(true);
    expect(matchesHash(`${secret}x`, hashSecret(secret))).toBe(false);
    expect(matchesHash(secret, 'not hex')).toBe(false);
  });
});

describe('worker credentials', () => {
  it('tells an unknown worker, a wrong secret and a secret not yet collected apart', () => {
    const credentials = WorkerCredentials.fromSecrets(new Map([['w1', 's1']]));
    credentials.set('joined', null);
    expect(credentials.verify('w1', 's1')).toBe('ok');
    expect(credentials.verify('w1', 's2')).toBe('wrong');
    expect(credentials.verify('ghost', 's1')).toBe('unknown');
    expect(credentials.verify('joined', 'anything')).toBe('uncollected');
    credentials.set('joined', hashSecret('collected'));
    expect(credentials.verify('joined', 'collected')).toBe('ok');
    credentials.delete('joined');
    expect(credentials.verify('joined', 'collected')).toBe('unknown');
    expect(refusalOf('uncollected', 'joined')).toContain('shepherd join --status');
  });
});
