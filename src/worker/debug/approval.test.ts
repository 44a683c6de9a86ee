import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { approvalMatches, approvalToken } from './approval.js';

describe('debug session approval tokens', () => {
  it('is HMAC-SHA256 of the session id keyed with the worker secret, in hex', () => {
    const token = approvalToken('s3cret', 'abc-123');
    expect(token).toBe(createHmac('sha256', 's3cret').update('abc-123').digest('hex'));
    expect(token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('matches only its own session under its own secret', () => {
    const token = approvalToken('s3cret', 'abc-123');
    expect(approvalMatches('s3cret', 'abc-123', token)).toBe(true);
    expect(approvalMatches('s3cret', 'abc-123', ` ${token.toUpperCase()}\n`)).toBe(true);
    expect(approvalMatches('s3cret', 'abc-124', token)).toBe(false);
    expect(approvalMatches('other', 'abc-123', token)).toBe(false);
    expect(approvalMatches('s3cret', 'abc-123', token.slice(0, 63))).toBe(false);
    expect(approvalMatches('s3cret', 'abc-123', '')).toBe(false);
  });
});
