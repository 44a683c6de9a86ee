/**
 * The worker admin's approval of one debug session: HMAC-SHA256 keyed with
 * the worker's secret over the session id, in hex. The admin computes it
 * (`shepherd approve SESSION --secret-env VAR`); the worker checks it.
 * A master that does not know the worker's secret cannot forge it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The approval token for `sessionId` under `secret`. */
export function approvalToken(secret: string, sessionId: string): string {
  return createHmac('sha256', secret).update(sessionId, 'utf8').digest('hex');
}

/** Whether `token` approves `sessionId`; constant time in the token's content. */
export function approvalMatches(secret: string, sessionId: string, token: string): boolean {
  const expected = Buffer.from(approvalToken(secret, sessionId), 'utf8');
  const given = Buffer.from(token.trim().toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
