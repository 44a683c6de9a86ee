/**
 * The OpenAPI 3.1 document, built from the same zod schemas that check
 * requests (`route.ts` records every route here as it registers it), so the
 * document cannot describe an API the server does not have.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';
import { responseComponents } from './schemas.js';

/** A non-JSON response: a media type and what it carries. */
export interface StreamResponse {
  mediaType: string;
  description: string;
}

/** What the document needs to know about one route. */
export interface DocumentedRoute {
  method: 'GET' | 'POST' | 'DELETE';
  /** Fastify syntax: `/api/v1/builds/:id`. */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  write: boolean;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  status: number;
  response: z.ZodType | StreamResponse;
}

type JsonSchema = Record<string, unknown>;

/** Collects routes and renders them as one OpenAPI 3.1 document. */
export class OpenApiDocument {
  readonly #routes: DocumentedRoute[] = [];
  #cached: JsonSchema | undefined;

  constructor(private readonly info: { title: string; version: string; description: string }) {}

  add(route: DocumentedRoute): void {
    this.#routes.push(route);
    this.#cached = undefined;
  }

  /** The routes recorded so far (for tests). */
  get routes(): readonly DocumentedRoute[] {
    return this.#routes;
  }

  /** The document; rendered once, then cached. */
  render(): JsonSchema {
    this.#cached ??= this.#build();
    return this.#cached;
  }

  #build(): JsonSchema {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of this.#routes) {
      const path = route.url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
      (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
    }
    const { schemas } = z.toJSONSchema(responseComponents, { uri: (id) => `#/components/schemas/${id}` });
    return {
      openapi: '3.1.0',
      info: this.info,
      servers: [{ url: '/' }],
      paths,
      components: {
        schemas: Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, clean(schema as JsonSchema)])),
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: "The master's API token (master.api_token_env)." },
        },
      },
    };
  }
}

function operation(route: DocumentedRoute): Record<string, unknown> {
  const parameters = [...parametersOf(route.params, 'path'), ...parametersOf(route.query, 'query')];
  const op: Record<string, unknown> = {
    operationId: route.operationId,
    summary: route.summary,
    tags: [route.tag],
  };
  if (route.description) op.description = route.description;
  if (parameters.length > 0) op.parameters = parameters;
  if (route.body) {
    op.requestBody = {
      required: !acceptsUndefined(route.body),
      content: { 'application/json': { schema: inputSchema(route.body) } },
    };
  }
  if (route.write) op.security = [{ bearer: [] }];

  const error = (meaning: string) => ({
    description: meaning,
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  });
  const responses: Record<string, unknown> = { [String(route.status)]: successResponse(route.response) };
  if (route.params || route.query || route.body) responses['400'] = error(ERROR_CODES.SHEPHERD_E_VALIDATION.meaning);
  if (route.write) responses['401'] = error(ERROR_CODES.SHEPHERD_E_UNAUTHORIZED.meaning);
  if (route.params) responses['404'] = error(ERROR_CODES.SHEPHERD_E_NOT_FOUND.meaning);
  responses.default = error('Any other error, in the same shape.');
  op.responses = responses;
  return op;
}

function successResponse(response: z.ZodType | StreamResponse): Record<string, unknown> {
  if (!(response instanceof z.ZodType)) {
    const schema = response.mediaType.startsWith('application/json') ? { type: 'object' } : { type: 'string' };
    return { description: response.description, content: { [response.mediaType]: { schema } } };
  }
  const meta = responseComponents.get(response);
  const schema = meta ? { $ref: `#/components/schemas/${meta.id}` } : clean(z.toJSONSchema(response) as JsonSchema);
  return { description: meta?.description ?? 'OK', content: { 'application/json': { schema } } };
}

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): Record<string, unknown>[] {
  if (!schema) return [];
  if (!(schema instanceof z.ZodObject)) throw new Error(`${where} schemas must be zod objects`);
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const json = inputSchema(field);
    const { description, ...rest } = json;
    return {
      name,
      in: where,
      required: where === 'path' || !acceptsUndefined(field),
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

function inputSchema(schema: z.ZodType): JsonSchema {
  // Query values arrive as text and are coerced; `unrepresentable: 'any'` keeps transforms from throwing.
  return clean(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema);
}

function acceptsUndefined(schema: z.ZodType): boolean {
  return schema.safeParse(undefined).success;
}

/** Drops the per-schema `$schema`/`$id`: OpenAPI 3.1 documents use JSON Schema 2020-12 already. */
function clean(schema: JsonSchema): JsonSchema {
  const { $schema: _schema, $id: _id, ...rest } = schema;
  return rest;
}
