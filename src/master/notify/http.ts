/**
 * The one HTTP POST notifiers make (webhooks, GitHub statuses), and the
 * error that tells the delivery loop whether trying again can help.
 */

/** How long one HTTP delivery may take before it counts as failed (and is retried). */
export const HTTP_TIMEOUT_MS = 30_000;

/** A failed delivery attempt; `permanent` ones (a 4xx answer but 408/429) are not retried. */
export class DeliveryError extends Error {
  override name = 'DeliveryError';
  constructor(
    message: string,
    readonly permanent: boolean,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
  }
}

/** Whether an HTTP status means the same request could succeed later. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status < 400;
}

/** POSTs a JSON body; resolves on a 2xx answer, rejects with a DeliveryError otherwise. */
export async function postJson(
  url: string,
  body: string,
  options: { headers?: Record<string, string>; signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const timeout = AbortSignal.timeout(HTTP_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Shepherd', ...options.headers },
      body,
      signal,
      redirect: 'error',
    });
  } catch (cause) {
    const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    throw new DeliveryError(`POST ${redact(url)}: ${reason}`, false, { cause });
  }
  if (response.ok) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  const text = (await response.text().catch(() => '')).replace(/\s+/g, ' ').trim().slice(0, 200);
  throw new DeliveryError(
    `POST ${redact(url)}: HTTP ${response.status}${text ? `: ${text}` : ''}`,
    !isRetryableStatus(response.status),
  );
}

/** A URL fit for logs: no credentials, no query (chat webhook URLs carry their keys there). */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/[^/]{20,}$/, '/***')}`;
  } catch {
    return '(invalid URL)';
  }
}
