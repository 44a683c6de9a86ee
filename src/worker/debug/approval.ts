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

/** The token with which the worker's admin ends `sessionId` (a different message than approving it). */
export function endToken(secret: string, sessionId: string): string {
  return approvalToken(secret, `end:${sessionId}`);
}

/** Whether `token` ends `sessionId`. */
export function endMatches(secret: string, sessionId: string, token: string): boolean {
  return approvalMatches(secret, `end:${sessionId}`, token);
}

/** Whether `token` approves `sessionId`; constant time in the token's content. */
export function approvalMatches(secret: string, sessionId: string, token: string): boolean {
  const expected = Buffer.from(approvalToken(secret, sessionId), 'utf8');
  const given = Buffer.from(token.trim().toLowerCase(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
