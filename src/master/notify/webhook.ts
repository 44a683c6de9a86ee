/**
 * Webhook deliveries: a JSON body POSTed to the configured URL, signed with
 * HMAC-SHA256 when the notifier names a secret so the receiver can tell it
 * came from this master.
 */
import { createHmac } from 'node:crypto';
import { postJson } from './http.js';

/** The header carrying the signature, like GitHub's X-Hub-Signature-256. */
export const SIGNATURE_HEADER = 'X-Shepherd-Signature-256';

/** `sha256=HEX` of the exact body bytes under the secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** POSTs a webhook body (signed when `secret` is given); rejects on a network error or a non-2xx answer. */
export async function postWebhook(url: string, payload: unknown, secret: string | undefined, signal?: AbortSignal): Promise<void> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {};
  if (secret !== undefined) headers[SIGNATURE_HEADER] = signBody(secret, body);
  await postJson(url, body, { headers, signal });
}
