/**
 * The debug-session endpoints: the WebSocket a client opens a session on
 * (`GET /api/v1/builds/:id/debug`, with the API token), a build's audit of
 * sessions, a session's recording (with the API token: a terminal shows
 * whatever the build environment holds), and the relay of the worker
 * admin's approval (no API token: the HMAC token itself is the credential,
 * checked by the worker, which alone knows its secret).
 */
import { createReadStream, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import { DebugSessionId } from '../../protocol/index.js';
import { requireWriteToken } from '../api/auth.js';
import type { MasterControl } from '../api/control.js';
import { errorBody } from '../api/error-replies.js';
import { findBuild } from '../api/lookups.js';
import { parseInput, type ApiRouter } from '../api/route.js';
import { DebugSessionJson, DebugSessionList, IdParams } from '../api/schemas.js';
import { ShepherdError } from '../errors.js';
import type { DebugSessionRecord } from '../store/debug-sessions.js';
import type { DebugBroker, DebugClient, DebugClientHandle } from './debug-broker.js';

const SessionParams = z.strictObject({ session: DebugSessionId });
const ApproveBody = z.strictObject({
  token: z.string().regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex digits: HMAC-SHA256 keyed with the worker secret'),
});
const ApproveJson = z.object({ approved: z.literal(true) });
const EndJson = z.object({ ended: z.literal(true) });

/** The first message of a client, and what may follow. */
const ClientOpen = z.strictObject({
  type: z.literal('open'),
  cols: z.number().int().min(1).max(1000).default(80),
  rows: z.number().int().min(1).max(1000).default(24),
  command: z.array(z.string().max(100_000)).min(1).max(1000).optional(),
});
const ClientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('resize'), cols: z.number().int().min(1).max(1000), rows: z.number().int().min(1).max(1000) }),
  z.strictObject({ type: z.literal('input'), data: z.string().max(64 * 1024) }),
]);
const UserName = z.string().min(1).max(200);

/** The audit entry as JSON. */
export function debugSessionJson(record: DebugSessionRecord): DebugSessionJson {
  return {
    session: record.session,
    build_id: record.buildId,
    worker: record.worker,
    user: record.user,
    command: record.command,
    mode: record.mode,
    started_at: record.startedAt,
    ended_at: record.endedAt,
    exit_code: record.exitCode,
    refused_reason: record.refusedReason,
    end_reason: record.endReason,
    recording: record.recording ? `/api/v1/debug/${record.session}/recording` : null,
  };
}

/**
 * Registers the debug routes. Without a broker (a master started without
 * debug support, bare test servers) the audit is still readable and opening
 * or approving a session answers SHEPHERD_E_CONFLICT.
 */
export function registerDebugRoutes(app: FastifyInstance, api: ApiRouter, control: MasterControl, broker: DebugBroker | undefined): void {
  const tokens = { apiToken: control.apiToken, apiTokenEnv: control.config.master.api_token_env };
  const disabled = () => new ShepherdError('SHEPHERD_E_CONFLICT', 'debug sessions are not enabled on this master');

  app.route({
    method: 'GET',
    url: '/api/v1/builds/:id/debug',
    // Before the upgrade: a refused caller gets a plain HTTP error reply.
    preValidation: async function checkDebugToken(request) {
      const query = request.query as Record<string, string | undefined>;
      requireWriteToken(tokens, request.headers.authorization ?? (query.token ? `Bearer ${query.token}` : undefined));
      parseInput(IdParams, request.params, 'params');
      if (!broker) throw disabled();
    },
    handler: async function refusePlainHttp(_request, reply) {
      const error = new ShepherdError('SHEPHERD_E_VALIDATION', 'GET /api/v1/builds/:id/debug is a WebSocket endpoint; use `shepherd debug BUILD`');
      return reply.code(error.status).send(errorBody(error));
    },
    wsHandler: function acceptDebugSocket(socket, request) {
      serveClient(socket, request, broker!);
    },
  });
  api.openapi.add({
    method: 'GET',
    url: '/api/v1/builds/:id/debug',
    operationId: 'debugSession',
    summary: 'WebSocket: a debug session on the worker that ran the build (shepherd debug)',
    description:
      'Needs the API token (`Authorization: Bearer` or `?token=`); `user` (query or `x-shepherd-user` header) names who asks (default "operator"). ' +
      'Send `{"type":"open","cols":80,"rows":24,"command":[...]}` first; then binary frames are input and `{"type":"resize","cols":C,"rows":R}` resizes. ' +
      'Output comes as binary frames, status as JSON text messages (session, pending, opened, refused, exit, error). The worker decides under its own policy.',
    tag: 'debug',
    write: true,
    params: IdParams,
    status: 101,
    response: { mediaType: 'application/octet-stream', description: 'Switching to the WebSocket protocol' },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/builds/:id/debug-sessions',
    operationId: 'listDebugSessions',
    summary: "A build's debug sessions (the audit), newest first",
    tag: 'debug',
    params: IdParams,
    response: DebugSessionList,
    async handler({ params }) {
      await findBuild(control, params.id);
      const sessions = await control.store.listDebugSessions(params.id);
      return { sessions: sessions.map(debugSessionJson) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/debug/:session/recording',
    operationId: 'getDebugRecording',
    summary: "A debug session's recording (asciicast v2; needs the API token)",
    description: 'A header line, then `[seconds, "o", text]` output events (and `"r"` resizes). Input is not recorded.',
    tag: 'debug',
    // A terminal shows whatever the build's environment holds: not for anonymous readers.
    write: true,
    params: SessionParams,
    response: { mediaType: 'application/x-asciicast', description: 'The recording' },
    async handler({ params, reply }) {
      const record = await control.store.getDebugSession(params.session);
      if (!record) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no debug session ${params.session}`);
      const path = record.recording ? resolve(control.config.master.data_dir, record.recording) : null;
      if (!path || !existsSync(path)) {
        throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `debug session ${params.session} has no recording (${record.refusedReason ? 'it was refused' : 'it never opened'})`);
      }
      reply.header('content-type', 'application/x-asciicast').send(createReadStream(path));
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/debug/:session/approve',
    operationId: 'approveDebugSession',
    summary: "Relay the worker admin's approval of a pending debug session (shepherd approve)",
    description:
      'The token is HMAC-SHA256(worker secret, session id) in hex; only the worker checks it. Answers once the worker has: 403 when it rejected the token.',
    tag: 'debug',
    params: SessionParams,
    body: ApproveBody,
    response: ApproveJson,
    async handler({ params, body }) {
      if (!broker) throw disabled();
      const outcome = await broker.approve(params.session, body.token);
      if (!outcome.approved) throw new ShepherdError('SHEPHERD_E_FORBIDDEN', `debug session ${params.session} was not approved: ${outcome.reason}`);
      return { approved: true as const };
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/debug/:session/end',
    operationId: 'endDebugSession',
    summary: "Relay the worker admin's request to end a debug session (shepherd debug-end)",
    description:
      'The token is HMAC-SHA256(worker secret, "end:" + session id) in hex; only the worker checks it, and ignores one that does not match (then 403 once the wait runs out).',
    tag: 'debug',
    params: SessionParams,
    body: ApproveBody,
    response: EndJson,
    async handler({ params, body }) {
      if (!broker) throw disabled();
      const outcome = await broker.end(params.session, body.token);
      if (!outcome.ended) throw new ShepherdError('SHEPHERD_E_FORBIDDEN', `debug session ${params.session} was not ended: the worker did not accept the token`);
      return { ended: true as const };
    },
  });
}

/** Relays one client WebSocket to the broker (protocol: see debug-broker.ts). */
function serveClient(socket: WebSocket, request: FastifyRequest, broker: DebugBroker): void {
  const query = request.query as Record<string, string | undefined>;
  const buildId = Number((request.params as { id: string }).id);
  const header = request.headers['x-shepherd-user'];
  const user = UserName.safeParse(query.user ?? (typeof header === 'string' ? header : undefined) ?? 'operator');
  let handle: DebugClientHandle | undefined;
  let opening = false;
  let gone = false;

  const sendJson = (message: unknown) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const fail = (code: string, message: string) => {
    sendJson({ type: 'error', code, message });
    socket.close(1000, 'session not opened');
  };
  const client: DebugClient = {
    output: (data) => {
      if (socket.readyState === socket.OPEN) socket.send(data, { binary: true });
    },
    status: sendJson,
    end: () => socket.close(1000, 'session over'),
  };
  if (!user.success) return fail('SHEPHERD_E_VALIDATION', 'user: expected 1 to 200 characters');

  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (!handle) {
      if (opening) return;
      opening = true;
      const open = isBinary ? undefined : ClientOpen.safeParse(parseJson(data));
      if (!open?.success) return fail('SHEPHERD_E_VALIDATION', 'the first message must be {"type":"open","cols":N,"rows":N,"command":[...]?}');
      const { cols, rows, command } = open.data;
      broker.open({ buildId, user: user.data, cols, rows, ...(command ? { command } : {}) }, client).then(
        (opened) => {
          handle = opened;
          if (gone) opened.close('the client left');
        },
        (error: unknown) => {
          const known = error instanceof ShepherdError;
          fail(known ? error.code : 'SHEPHERD_E_INTERNAL', known ? error.message : 'the debug session could not be opened; the master log says why');
          if (!known) request.log.error({ err: error }, 'opening a debug session failed');
        },
      );
      return;
    }
    if (isBinary) return handle.input(data);
    const message = ClientMessage.safeParse(parseJson(data));
    if (!message.success) return;
    if (message.data.type === 'resize') handle.resize(message.data.cols, message.data.rows);
    else handle.input(Buffer.from(message.data.data, 'utf8'));
  });
  socket.on('close', () => {
    gone = true;
    handle?.close('the client left');
  });
}

function parseJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString('utf8'));
  } catch {
    return undefined;
  }
}
