/**
 * One error shape for every failure the HTTP server reports, whoever raised
 * it: our handlers (ShepherdError), Fastify itself (malformed JSON, body too
 * large, unknown route) or a bug (anything else, logged, 500).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ShepherdError, toShepherdError, type ErrorBody } from '../errors.js';

/** The JSON body for an error. */
export function errorBody(error: ShepherdError): ErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
    },
  };
}

/** Maps what Fastify throws before our handlers run onto the catalogue. */
export function fromFastifyError(error: unknown): ShepherdError {
  if (error instanceof ShepherdError) return error;
  const fastifyError = error as Partial<FastifyError>;
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new ShepherdError('SHEPHERD_E_VALIDATION', `body: ${fastifyError.message ?? 'malformed JSON'}; send a JSON object`, {
        cause: error,
        details: { field: 'body' },
      });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ShepherdError('SHEPHERD_E_PAYLOAD_TOO_LARGE', 'the request body is too large', { cause: error });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ShepherdError('SHEPHERD_E_VALIDATION', 'body: send JSON with Content-Type: application/json', {
        cause: error,
        details: { field: 'body' },
      });
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ShepherdError('SHEPHERD_E_VALIDATION', fastifyError.message ?? 'bad request', { cause: error });
  }
  return toShepherdError(error);
}

/**
 * Installs the error and not-found handlers. `fallback` may answer a request
 * no route matched (the web UI's own URLs); when it returns false the answer
 * is the JSON 404.
 */
export function installErrorReplies(
  app: FastifyInstance,
  fallback: (request: FastifyRequest, reply: FastifyReply) => boolean = () => false,
): void {
  app.setErrorHandler(function replyWithError(error, request, reply) {
    const shepherdError = fromFastifyError(error);
    if (shepherdError.status >= 500) request.log.error({ err: error }, 'request failed');
    // A stream that already started cannot change its status; just cut it.
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    return reply.code(shepherdError.status).type('application/json; charset=utf-8').send(errorBody(shepherdError));
  });
  app.setNotFoundHandler(function replyNotFound(request, reply) {
    if (fallback(request, reply)) return reply;
    const error = new ShepherdError(
      'SHEPHERD_E_NOT_FOUND',
      `no route ${request.method} ${request.url.split('?')[0]}; the API is described at /api/v1/openapi.json`,
    );
    return reply.code(404).send(errorBody(error));
  });
}
