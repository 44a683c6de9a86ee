/**
 * What the live event stream says about each master event: a small JSON
 * summary (ids, builder, number, result, worker), never log bytes, so a
 * browser tab or `shepherd force --wait` can follow the farm cheaply and
 * fetch details it cares about. Typed over the whole event map: a new event
 * does not compile until it has a summary here.
 */
import type { MasterEventName, MasterEvents } from '../events.js';

type Summaries = { [E in MasterEventName]: (payload: MasterEvents[E]) => Record<string, unknown> };

/** One summary function per event. */
export const eventSummaries: Summaries = {
  'change:new': ({ change }) => ({
    change_id: change.id,
    source: change.source,
    branch: change.branch,
    revision: change.revision,
    author: change.author,
  }),
  'build:queued': ({ request }) => ({
    request_id: request.id,
    builder: request.builder,
    priority: request.priority,
  }),
  'build:started': ({ build, request }) => ({
    build_id: build.id,
    request_id: request.id,
    builder: build.builder,
    number: build.number,
    worker: build.worker,
  }),
  'step:started': ({ build, step }) => ({
    build_id: build.id,
    step_id: step.id,
    builder: build.builder,
    number: build.number,
    index: step.index,
    name: step.name,
  }),
  'step:output': ({ buildId, stepId, offset, data }) => ({
    build_id: buildId,
    step_id: stepId,
    offset,
    length: data.length,
  }),
  'step:finished': ({ build, step, durationMs }) => ({
    build_id: build.id,
    step_id: step.id,
    builder: build.builder,
    number: build.number,
    index: step.index,
    name: step.name,
    result: step.result,
    duration_ms: durationMs,
  }),
  'build:finished': ({ build, request, requeued }) => ({
    build_id: build.id,
    request_id: request.id,
    builder: build.builder,
    number: build.number,
    worker: build.worker,
    result: build.result,
    requeued,
  }),
  'worker:state': ({ worker, from, to }) => ({ worker, from, to }),
  'notify:failed': ({ notifier, buildId, error }) => ({ notifier, build_id: buildId, error }),
  'request:cancelled': ({ request }) => ({ request_id: request.id, builder: request.builder }),
  'worker:connected': ({ worker }) => ({ worker }),
  'worker:disconnected': ({ worker, reason }) => ({ worker, reason }),
  'worker:lost': ({ worker, builds }) => ({ worker, builds }),
  'worker:refused': ({ name, code, reason, remote }) => ({ name, code, reason, remote }),
  'log:truncated': ({ stepId, limit }) => ({ step_id: stepId, limit }),
  // Names and states only: a volunteer's contact is shown to those who read the application list.
  'application:submitted': ({ application }) => ({ application_id: application.id, name: application.name }),
  'application:decided': ({ application }) => ({ application_id: application.id, name: application.name, state: application.state, worker: application.worker }),
  'worker:retired': ({ worker }) => ({ worker: worker.name }),
};

/** Every event name, in the map's order (the summaries' keys: complete by their type). */
export const EVENT_NAMES = Object.keys(eventSummaries) as readonly MasterEventName[];

/** One Server-Sent Events message. */
export function sseMessage(event: string, data: unknown): string {
  // JSON.stringify never emits raw newlines, so `data:` stays one line.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
