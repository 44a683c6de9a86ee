/**
 * The one way routes are declared: each route names its params, query and
 * body schemas, whether it writes, and its response; `ApiRouter` checks the
 * token on writes, parses the input with zod once (400 naming the field) and
 * records the route in the OpenAPI document.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { formatPath } from '../config/load.js';
import { ShepherdError } from '../errors.js';
import { requireWriteToken, type TokenSettings } from './auth.js';
import type { OpenApiDocument, StreamResponse } from './openapi.js';

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

/** What a handler receives: the parsed input plus the raw request and reply (for streams and headers). */
export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

/**
 * One route. A JSON route returns its response; any other route sends on
 * `reply` itself and returns nothing (a FastifyReply is a thenable: returning
 * it from an async function would wait for the whole response).
 */
export interface RouteDefinition<
  P extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  B extends z.ZodType | undefined,
  R extends z.ZodType | StreamResponse,
> {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** Needs the API token. */
  write?: boolean;
  params?: P;
  query?: Q;
  body?: B;
  /** Success status (default 200). */
  status?: number;
  /** Largest body accepted, in bytes (default: Fastify's 1 MiB). */
  bodyLimit?: number;
  response: R;
  handler(
    context: RouteContext<Parsed<P>, Parsed<Q>, Parsed<B>>,
  ): Promise<R extends z.ZodType ? z.output<R> : void>;
}

/** Registers routes on a Fastify instance with validation, auth and documentation. */
export class ApiRouter {
  constructor(
    private readonly app: FastifyInstance,
    private readonly tokens: TokenSettings,
    readonly openapi: OpenApiDocument,
  ) {}

  route<
    P extends z.ZodType | undefined = undefined,
    Q extends z.ZodType | undefined = undefined,
    B extends z.ZodType | undefined = undefined,
    R extends z.ZodType | StreamResponse = z.ZodType,
  >(definition: RouteDefinition<P, Q, B, R>): void {
    const { method, url, write = false, status = 200 } = definition;
    this.openapi.add({
      method,
      url,
      operationId: definition.operationId,
      summary: definition.summary,
      ...(definition.description ? { description: definition.description } : {}),
      tag: definition.tag,
      write,
      ...(definition.params ? { params: definition.params } : {}),
      ...(definition.query ? { query: definition.query } : {}),
      ...(definition.body ? { body: definition.body } : {}),
      status,
      response: definition.response,
    });
    const tokens = this.tokens;
    this.app.route({
      method,
      url,
      ...(definition.bodyLimit ? { bodyLimit: definition.bodyLimit } : {}),
      handler: async function handleApiRoute(request, reply) {
        // Auth first: an anonymous caller learns nothing from validation errors.
        if (write) requireWriteToken(tokens, request.headers.authorization);
        const context = {
          params: parseInput(definition.params, request.params, 'params'),
          query: parseInput(definition.query, request.query, 'query'),
          body: parseInput(definition.body, request.body, 'body'),
          request,
          reply,
        } as RouteContext<Parsed<P>, Parsed<Q>, Parsed<B>>;
        const result = await definition.handler(context);
        if (!(definition.response instanceof z.ZodType)) return reply;
        return reply.code(status).send(result);
      },
    });
  }
}

/** Parses one part of a request, or throws SHEPHERD_E_VALIDATION naming the first bad field. */
export function parseInput<S extends z.ZodType | undefined>(schema: S, value: unknown, part: 'params' | 'query' | 'body'): Parsed<S> {
  if (!schema) return undefined as Parsed<S>;
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data as Parsed<S>;
  const problems = parsed.error.issues.map((issue) => describeIssue(issue, part));
  const first = problems[0]!;
  throw new ShepherdError('SHEPHERD_E_VALIDATION', `${first.field}: ${first.message}`, {
    details: { field: first.field, ...(problems.length > 1 ? { problems } : {}) },
  });
}

/** A zod issue as `{ field: 'properties.foo', message: 'expected string' }`. */
export function describeIssue(issue: z.core.$ZodIssue, part: string): { field: string; message: string } {
  const path = [...issue.path];
  let message = issue.message;
  switch (issue.code) {
    case 'invalid_type':
      message = `expected ${issue.expected === 'int' ? 'integer' : issue.expected}`;
      break;
    case 'unrecognized_keys':
      // Name the unknown key itself: that is the field the caller got wrong.
      path.push(issue.keys[0]!);
      message = issue.keys.length > 1 ? `unknown fields ${issue.keys.join(', ')}` : 'unknown field';
      break;
    case 'invalid_value':
      message = `expected one of ${issue.values.map((value) => String(value)).join(', ')}`;
      break;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const what = issue.origin === 'string' ? 'length' : issue.origin === 'array' ? 'items' : '';
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      message = `expected ${what ? `${what} ` : ''}${op} ${String(bound)}`;
      break;
    }
  }
  return { field: path.length > 0 ? formatPath(path) : part, message };
}
