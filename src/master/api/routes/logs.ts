/**
 * Step logs as raw bytes (`text/plain; charset=utf-8`), by step id or by
 * build and step: a byte range, a download, or a live follow. Logs are
 * streamed chunk by chunk, never read whole into memory.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import type { Step } from '../../domain.js';
import type { MasterControl } from '../control.js';
import { streamStepLog } from '../log-stream.js';
import { findBuild, findBuildStep, findStep } from '../lookups.js';
import type { ApiRouter } from '../route.js';
import { BuildStepParams, IdParams, LogQuery } from '../schemas.js';

const LOG_RESPONSE = {
  mediaType: 'text/plain; charset=utf-8',
  description: "The log's bytes exactly as the step wrote them (with follow: until the step finishes).",
};
const LOG_DESCRIPTION =
  '`start`/`end` select a byte range; `download=1` adds Content-Disposition: attachment; ' +
  '`follow=1` sends what is stored, then live output until the step finishes.';

/** `GET /api/v1/steps/:id/log`, `GET /api/v1/builds/:id/steps/:step/log`. */
export function registerLogRoutes(api: ApiRouter, control: MasterControl): void {
  api.route({
    method: 'GET',
    url: '/api/v1/steps/:id/log',
    operationId: 'getStepLog',
    summary: "A step's log",
    description: LOG_DESCRIPTION,
    tag: 'logs',
    params: IdParams,
    query: LogQuery,
    response: LOG_RESPONSE,
    async handler({ params, query, reply }) {
      await sendLog(control, await findStep(control, params.id), query, reply);
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/builds/:id/steps/:step/log',
    operationId: 'getBuildStepLog',
    summary: "A step's log, by build id and step index or name",
    description: LOG_DESCRIPTION,
    tag: 'logs',
    params: BuildStepParams,
    query: LogQuery,
    response: LOG_RESPONSE,
    async handler({ params, query, reply }) {
      await sendLog(control, await findBuildStep(control, params.id, params.step), query, reply);
    },
  });
}

async function sendLog(
  control: MasterControl,
  step: Step,
  query: z.output<typeof LogQuery>,
  reply: FastifyReply,
): Promise<void> {
  const abort = new AbortController();
  // 'close' also fires after a normal end, when aborting is harmless.
  reply.raw.once('close', () => abort.abort());
  const follow = query.follow === true && step.state !== 'finished';
  const bytes = streamStepLog(
    control,
    { stepId: step.id, buildId: step.buildId },
    { start: query.start, end: query.end, follow, signal: abort.signal },
  );
  reply
    .type('text/plain; charset=utf-8')
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', follow ? 'no-store' : 'no-cache');
  if (follow) reply.header('x-accel-buffering', 'no');
  if (query.download) {
    const build = await findBuild(control, step.buildId);
    reply.header('content-disposition', `attachment; filename="${build.builder}-${build.number}-${step.index}-${step.name}.log"`);
  }
  reply.send(Readable.from(bytes, { objectMode: false }));
}
