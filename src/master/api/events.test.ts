import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENT_NAMES } from './event-summary.js';
import { createHttpServer } from './server.js';
import { createTestControl, type TestControl } from './test-control.js';

let control: TestControl;
let app: FastifyInstance;
let base: string;
let subscriptions: { active: number };

beforeEach(async () => {
  control = await createTestControl();
  // Count subscriptions so the test sees a disconnected client's listeners removed.
  const on = control.events.on.bind(control.events);
  const counter = (subscriptions = { active: 0 });
  control.events.on = ((event, listener) => {
    counter.active++;
    const off = on(event, listener);
    return () => {
      counter.active--;
      off();
    };
  }) as typeof control.events.on;
  app = await createHttpServer(control, { logger: false, registry: new Registry(), onWorkerSocket: (s) => s.close() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterEach(async () => {
  await app.close();
  await control.close();
});

/** Reads an SSE response until `done` says the text so far is enough. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, done: (text: string) => boolean, text = ''): Promise<string> {
  const decoder = new TextDecoder();
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) throw new Error(`stream ended after: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe('GET /api/v1/events', () => {
  it('sends one SSE message per event, then unsubscribes on disconnect', async () => {
    await control.connect('linux-1');
    const abort = new AbortController();
    const response = await fetch(`${base}/api/v1/events`, { signal: abort.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.getReader();
    let text = await readUntil(reader, (t) => t.includes(': connected'));
    expect(subscriptions.active).toBe(EVENT_NAMES.length);

    const { build, steps } = await control.startBuild('unix-tests', 'linux-1');
    control.sendOutput(steps[0]!.id, 'secret bytes');
    text = await readUntil(reader, (t) => t.includes('event: step:output'), text);

    const messages = text
      .split('\n\n')
      .filter((block) => block.startsWith('event: '))
      .map((block) => {
        const [event, data] = block.split('\n');
        return { event: event!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
      });
    expect(messages.map((m) => m.event)).toEqual(['build:queued', 'build:started', 'step:started', 'step:output']);
    expect(messages[1]!.data).toEqual({
      build_id: build.id,
      request_id: build.requestId,
      builder: 'unix-tests',
      number: 1,
      worker: 'linux-1',
    });
    expect(messages[3]!.data).toEqual({ build_id: build.id, step_id: steps[0]!.id, offset: 0, length: 12 });
    expect(text).not.toContain('secret bytes');

    abort.abort();
    await vi.waitFor(() => expect(subscriptions.active).toBe(0), { timeout: 5000 });
  });

  it('sends only the events asked for', async () => {
    const abort = new AbortController();
    const response = await fetch(`${base}/api/v1/events?types=build:started`, { signal: abort.signal });
    const reader = response.body!.getReader();
    await readUntil(reader, (t) => t.includes(': connected'));
    expect(subscriptions.active).toBe(1);
    await control.startBuild('unix-tests', 'linux-1');
    const text = await readUntil(reader, (t) => t.includes('event: build:started'));
    expect(text).not.toContain('build:queued');
    abort.abort();
  });

  it('refuses an unknown event name, naming `types`', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/events?types=build:exploded' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.details.field).toBe('types');
  });

  it('does not keep the server from closing', async () => {
    const response = await fetch(`${base}/api/v1/events`);
    await readUntil(response.body!.getReader(), (t) => t.includes(': connected'));
    await app.close();
    await vi.waitFor(() => expect(subscriptions.active).toBe(0), { timeout: 5000 });
  });
});
