/**
 * The live event stream: Server-Sent Events, one per master event, for web
 * views and `shepherd force --wait`.
 */
import { PassThrough } from 'node:stream';
import type { MasterControl } from '../control.js';
import { EVENT_NAMES, eventSummaries, sseMessage } from '../event-summary.js';
import type { ApiRouter } from '../route.js';
import { EventsQuery } from '../schemas.js';
import type { MasterEventName } from '../../events.js';

/** How often an idle stream gets a comment, so proxies and clients see it is alive. */
export const HEARTBEAT_MS = 15_000;

/** `GET /api/v1/events`. */
export function registerEventRoutes(api: ApiRouter, control: MasterControl): void {
  api.route({
    method: 'GET',
    url: '/api/v1/events',
    operationId: 'streamEvents',
    summary: 'Live master events as Server-Sent Events',
    description:
      'Each message is `event: <name>` with `data:` a JSON summary (ids, builder, number, result, worker; ' +
      '`step:output` carries offset and length, not bytes). A comment line is sent every 15 s.',
    tag: 'events',
    query: EventsQuery,
    response: { mediaType: 'text/event-stream', description: 'Server-Sent Events' },
    async handler({ query, reply }) {
      const stream = new PassThrough();
      const names: readonly MasterEventName[] = query.types ?? EVENT_NAMES;
      const unsubscribe = names.map((name) =>
        control.events.on(name, (payload) => {
          if (stream.destroyed) return;
          const summarise = eventSummaries[name] as (p: typeof payload) => Record<string, unknown>;
          // A client that stops reading is dropped rather than buffered without bound.
          if (stream.writableLength > 4 * 1024 * 1024) stream.destroy();
          else stream.write(sseMessage(name, summarise(payload)));
        }),
      );
      const heartbeat = setInterval(() => stream.destroyed || stream.write(': heartbeat\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      stream.once('close', function stopEventStream() {
        clearInterval(heartbeat);
        for (const off of unsubscribe) off();
      });
      reply.raw.once('close', () => stream.destroy());
      // Sent at once so the client knows it is subscribed (headers flush with the first bytes).
      stream.write(': connected\nretry: 2000\n\n');
      reply
        .type('text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-accel-buffering', 'no')
        .send(stream);
    },
  });
}
