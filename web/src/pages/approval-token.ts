/**
 * The worker admin's tokens for a debug session, computed in the browser
 * with WebCrypto: HMAC-SHA256 keyed with the worker's secret, over the
 * session id (approve) or "end:" + the session id (end), in lower-case hex.
 * The same as `src/worker/debug/approval.ts`, which the worker checks them
 * against; the secret never leaves the page.
 */

/** The hex HMAC-SHA256 of `message` keyed with `secret`. */
export async function hmacHex(secret: string, message: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const signature = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(message)));
  return [...signature].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The token that approves `session`. */
export function approvalToken(secret: string, session: string): Promise<string> {
  return hmacHex(secret, session);
}

/** The token that ends `session`. */
export function endToken(secret: string, session: string): Promise<string> {
  return hmacHex(secret, `end:${session}`);
}
