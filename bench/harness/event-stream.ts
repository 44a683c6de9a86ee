/**
 * A minimal client of the master's live event stream (`GET /api/v1/events`,
 * Server-Sent Events), so workloads learn that builds finished the moment the
 * master says so, without polling the API (which would cost master CPU and
 * blur the measurement).
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** One event as the stream sends it: its name and its JSON summary. */
export interface StreamEvent {
  name: string;
  data: Record<string, unknown>;
  /** When the benchmark received it (performance.now()). */
  receivedAt: number;
}

interface Waiter {
  test: (event: StreamEvent) => boolean;
  resolve: (event: StreamEvent) => void;
}

/** An open subscription to the master's events. */
export class EventStream {
  /** Every event received, in order. */
  readonly events: StreamEvent[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #listeners = new Set<(event: StreamEvent) => void>();
  #request: ClientRequest | undefined;
  #closedError: Error | undefined;

  private constructor() {}

  /** Subscribes to `types` (e.g. `['build:finished']`); resolves once the master confirmed the subscription. */
  static open(baseUrl: string, types: string[]): Promise<EventStream> {
    const stream = new EventStream();
    return new Promise((resolve, reject) => {
      const url = new URL(`/api/v1/events?types=${types.join(',')}`, baseUrl);
      const req = request(url, { headers: { accept: 'text/event-stream' } }, (response: IncomingMessage) => {
        if (response.statusCode !== 200) {
          reject(new Error(`GET ${url.pathname}: HTTP ${response.statusCode}`));
          response.resume();
          return;
        }
        let pending = '';
        let subscribed = false;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          pending += chunk;
          let end: number;
          while ((end = pending.indexOf('\n\n')) >= 0) {
            const block = pending.slice(0, end);
            pending = pending.slice(end + 2);
            if (!subscribed && block.startsWith(': connected')) {
              subscribed = true;
              resolve(stream);
            }
            stream.#onBlock(block);
          }
        });
        response.on('close', () => stream.#onClose(new Error('the event stream closed')));
      });
      req.on('error', (error) => {
        reject(error);
        stream.#onClose(error);
      });
      req.end();
      stream.#request = req;
    });
  }

  #onBlock(block: string): void {
    let name = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (!data) return; // a comment (heartbeat) or the retry hint
    const event: StreamEvent = { name, data: JSON.parse(data) as Record<string, unknown>, receivedAt: performance.now() };
    this.events.push(event);
    for (const listener of this.#listeners) listener(event);
    for (const waiter of this.#waiters) {
      if (waiter.test(event)) {
        this.#waiters.delete(waiter);
        waiter.resolve(event);
      }
    }
  }

  #onClose(error: Error): void {
    this.#closedError ??= error;
  }

  /** Calls `listener` for each later event; returns the unsubscribe. */
  onEvent(listener: (event: StreamEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The first event (already received or later) that `test` accepts. */
  waitFor(what: string, test: (event: StreamEvent) => boolean, timeoutMs: number): Promise<StreamEvent> {
    const seen = this.events.find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        test,
        resolve: (event) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`no ${what} event within ${timeoutMs} ms${this.#closedError ? ` (${this.#closedError.message})` : ''}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  close(): void {
    this.#request?.destroy();
  }
}
