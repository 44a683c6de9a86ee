/**
 * Worker credentials, on-demand instances' side: a one-time token is good
 * once before it expires and earns a session secret; only that secret counts
 * afterwards, for reconnects and for signed API calls alike.
 */
import { describe, expect, it } from 'vitest';
import { hashSecret, newSecret } from '../secrets.js';
import { WorkerCredentials, refusalOf } from './credentials.js';

const NOW = Date.UTC(2026, 2, 1, 12, 0);
const MINUTE = 60_000;

/** Credentials holding one instance, `cloud-1`, with a token valid for ten minutes; `spent` collects what onSpent was told. */
function withToken(): { credentials: WorkerCredentials; token: string; spent: string[] } {
  const credentials = new WorkerCredentials();
  const token = newSecret();
  const spent: string[] = [];
  credentials.setToken('cloud-1', {
    tokenHash: hashSecret(token),
    expiresAt: NOW + 10 * MINUTE,
    sessionHash: null,
    onSpent: (hash) => spent.push(hash),
  });
  return { credentials, token, spent };
}

describe('one-time tokens of on-demand instances', () => {
  it('a token authenticates once before it expires and yields a session secret whose hash onSpent is told', () => {
    const { credentials, token, spent } = withToken();
    const first = credentials.authenticate('cloud-1', token, NOW + 9 * MINUTE);
    expect(first.verdict).toBe('ok');
    expect(first.sessionSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.sessionSecret).not.toBe(token);
    expect(spent).toEqual([hashSecret(first.sessionSecret!)]);
  });

  it('a second use of the token is refused as spent, and onSpent is not told again', () => {
    const { credentials, token, spent } = withToken();
    expect(credentials.authenticate('cloud-1', token, NOW).verdict).toBe('ok');
    const second = credentials.authenticate('cloud-1', token, NOW + MINUTE);
    expect(second).toEqual({ verdict: 'spent' });
    expect(spent).toHaveLength(1);
  });

  it('an expired token is refused as spent, stays spent, and earns no session secret', () => {
    const { credentials, token, spent } = withToken();
    expect(credentials.authenticate('cloud-1', token, NOW + 10 * MINUTE)).toEqual({ verdict: 'spent' });
    // Not good again just because a clock went back: expiry spends it.
    expect(credentials.authenticate('cloud-1', token, NOW)).toEqual({ verdict: 'spent' });
    expect(spent).toEqual([]);
  });

  it('the session secret authenticates its reconnects (with no new secret) and verify accepts it', () => {
    const { credentials, token } = withToken();
    const { sessionSecret } = credentials.authenticate('cloud-1', token, NOW);
    // Long after the token's expiry: the session does not expire with it.
    expect(credentials.authenticate('cloud-1', sessionSecret!, NOW + 60 * MINUTE)).toEqual({ verdict: 'ok' });
    expect(credentials.authenticate('cloud-1', sessionSecret!, NOW + 61 * MINUTE)).toEqual({ verdict: 'ok' });
    expect(credentials.verify('cloud-1', sessionSecret!)).toBe('ok');
  });

  it('verify never accepts the token, before or after it is spent', () => {
    const { credentials, token } = withToken();
    expect(credentials.verify('cloud-1', token)).toBe('wrong');
    // verify changes nothing: the token still connects once.
    expect(credentials.authenticate('cloud-1', token, NOW).verdict).toBe('ok');
    expect(credentials.verify('cloud-1', token)).toBe('wrong');
  });

  it('a wrong secret is refused as wrong, before and after the token is spent, and does not spend it', () => {
    const { credentials, token, spent } = withToken();
    expect(credentials.authenticate('cloud-1', 'not-the-token', NOW)).toEqual({ verdict: 'wrong' });
    expect(credentials.verify('cloud-1', 'not-the-token')).toBe('wrong');
    expect(spent).toEqual([]);
    expect(credentials.authenticate('cloud-1', token, NOW).verdict).toBe('ok');
    expect(credentials.authenticate('cloud-1', 'not-the-session', NOW)).toEqual({ verdict: 'spent' });
  });

  it('an instance adopted after a restart has only its session secret: the secret connects, nothing else does', () => {
    const credentials = new WorkerCredentials();
    const session = newSecret();
    credentials.setToken('cloud-2', { tokenHash: null, expiresAt: 0, sessionHash: hashSecret(session) });
    expect(credentials.authenticate('cloud-2', session, NOW)).toEqual({ verdict: 'ok' });
    expect(credentials.verify('cloud-2', session)).toBe('ok');
    expect(credentials.authenticate('cloud-2', newSecret(), NOW)).toEqual({ verdict: 'spent' });
  });

  it('a deleted instance is unknown, whatever it presents', () => {
    const { credentials, token } = withToken();
    const { sessionSecret } = credentials.authenticate('cloud-1', token, NOW);
    credentials.delete('cloud-1');
    expect(credentials.authenticate('cloud-1', sessionSecret!, NOW)).toEqual({ verdict: 'unknown' });
    expect(credentials.verify('cloud-1', sessionSecret!)).toBe('unknown');
  });

  it('workers with plain secrets are not affected by the time or by tokens', () => {
    const credentials = WorkerCredentials.fromSecrets(new Map([['linux-1', 'linux-secret']]));
    expect(credentials.authenticate('linux-1', 'linux-secret', NOW)).toEqual({ verdict: 'ok' });
    expect(credentials.authenticate('linux-1', 'linux-secret', NOW + 1e12)).toEqual({ verdict: 'ok' });
    expect(credentials.authenticate('linux-1', 'other', NOW)).toEqual({ verdict: 'wrong' });
  });
});

describe('refusalOf', () => {
  it('spent: says the instance’s one-time token was used or expired, naming it', () => {
    expect(refusalOf('spent', 'cloud-1')).toBe('the one-time token of on-demand instance "cloud-1" was already used or has expired');
  });
});
