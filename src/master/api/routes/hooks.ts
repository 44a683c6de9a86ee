/**
 * Push webhooks: `POST /hooks/github`, `/hooks/gitlab` and `/hooks/gitea`.
 * They live outside /api/v1 and its bearer token: each provider proves
 * itself with its own secret, checked on the raw body bytes, so these routes
 * sit in their own Fastify scope with a body parser that keeps those bytes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Config } from '../../config/schema.js';
import type { Secrets } from '../../config/load.js';
import { ShepherdError } from '../../errors.js';
import type { MasterEventBus } from '../../events.js';
import type { Store } from '../../store/store.js';
import { ingestChanges } from '../../changes/ingest.js';
import { parseGiteaPush, verifyGitea } from '../../changes/webhooks/gitea.js';
import { parseGithubPush, verifyGithub } from '../../changes/webhooks/github.js';
import { parseGitlabPush, verifyGitlab } from '../../changes/webhooks/gitlab.js';
import {
  pushToChanges, sourcesForPush,
  type HookHeaders, type HookProvider, type IgnoredDelivery, type PushEvent,
} from '../../changes/webhooks/push.js';
import { errorBody, fromFastifyError } from '../error-replies.js';

/** Largest delivery accepted (GitHub caps its payloads at 25 MB). */
export const HOOK_BODY_LIMIT = 25 * 1024 * 1024;

/** What the webhook routes need from the master. */
export interface HookRouteDeps {
  config: Readonly<Config>;
  secrets: Secrets;
  store: Store;
  events: MasterEventBus;
  clock: Clock;
  logger: Logger;
}

interface ProviderSpec {
  label: string;
  /** The config key that enables it and names its secret's variable. */
  configKey: string;
  envName(hooks: Config['hooks']): string | undefined;
  /** What the provider sends to prove itself, for the 401 message. */
  proof: string;
  verify(rawBody: Buffer, headers: HookHeaders, secret: string): boolean;
  parse(body: unknown, headers: HookHeaders): PushEvent | IgnoredDelivery;
}

const PROVIDERS: Record<HookProvider, ProviderSpec> = {
  github: {
    label: 'GitHub',
    configKey: 'hooks.github.secret_env',
    envName: (hooks) => hooks.github?.secret_env,
    proof: 'the X-Hub-Signature-256 signature',
    verify: verifyGithub,
    parse: parseGithubPush,
  },
  gitlab: {
    label: 'GitLab',
    configKey: 'hooks.gitlab.token_env',
    envName: (hooks) => hooks.gitlab?.token_env,
    proof: 'the X-Gitlab-Token token',
    verify: verifyGitlab,
    parse: parseGitlabPush,
  },
  gitea: {
    label: 'Gitea',
    configKey: 'hooks.gitea.secret_env',
    envName: (hooks) => hooks.gitea?.secret_env,
    proof: 'the X-Gitea-Signature signature',
    verify: verifyGitea,
    parse: parseGiteaPush,
  },
};

/** Registers the three webhook routes in their own scope (raw-body parser, same JSON error shape as the API). */
export async function registerHookRoutes(app: FastifyInstance, deps: HookRouteDeps): Promise<void> {
  await app.register(async function hookRoutes(scope) {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      ['application/json', 'application/x-www-form-urlencoded'],
      { parseAs: 'buffer', bodyLimit: HOOK_BODY_LIMIT },
      function keepRawBody(_request, body, done) {
        done(null, body);
      },
    );
    scope.setErrorHandler(function replyWithHookError(error, request, reply) {
      const shepherdError = fromFastifyError(error);
      if (shepherdError.status >= 500) deps.logger.error({ err: error, url: request.url }, 'webhook delivery failed');
      return reply.code(shepherdError.status).type('application/json; charset=utf-8').send(errorBody(shepherdError));
    });
    for (const provider of Object.keys(PROVIDERS) as HookProvider[]) {
      scope.post(`/hooks/${provider}`, { bodyLimit: HOOK_BODY_LIMIT }, (request, reply) => receivePush(provider, request, reply, deps));
    }
  });
}

async function receivePush(provider: HookProvider, request: FastifyRequest, reply: FastifyReply, deps: HookRouteDeps) {
  const spec = PROVIDERS[provider];
  const envName = spec.envName(deps.config.hooks);
  if (envName === undefined) {
    throw new ShepherdError(
      'SHEPHERD_E_NOT_FOUND',
      `${spec.label} webhooks are not enabled; set ${spec.configKey} in the config to the variable holding the webhook's secret`,
    );
  }
  const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  if (!spec.verify(rawBody, request.headers, deps.secrets.env[envName] ?? '')) {
    deps.logger.warn({ provider, remote: request.ip }, `${spec.label} webhook refused: bad or missing signature`);
    throw new ShepherdError(
      'SHEPHERD_E_HOOK_SIGNATURE',
      `${spec.proof} does not match the secret in ${envName} (${spec.configKey}); set the same secret in the webhook's settings`,
    );
  }
  const push = spec.parse(decodeBody(rawBody, request.headers['content-type']), request.headers);
  if ('ignored' in push) return reply.code(200).send({ ignored: push.ignored });
  if (push.deliveryId !== null && !(await deps.store.recordDelivery(provider, push.deliveryId, deps.clock.now()))) {
    return reply.code(200).send({ duplicate: true });
  }
  const sources = sourcesForPush(push, deps.config.changes);
  if ('ignored' in sources) return reply.code(202).send({ ignored: sources.ignored });
  const ids: number[] = [];
  for (const source of sources) {
    const { changes, heads } = pushToChanges(push, source);
    const added = await ingestChanges(deps, source.name, changes, heads);
    ids.push(...added.map((change) => change.id));
  }
  deps.logger.info(
    { provider, repository: push.repositoryName, branch: push.branch, sources: sources.map((s) => s.name), changes: ids.length },
    `${spec.label} push to ${push.repositoryName} ${push.branch}: ${ids.length} new change(s)`,
  );
  return reply.code(202).send({ changes: ids });
}

/** The delivery's JSON: the body itself, or (GitHub's form encoding) its `payload` field. */
function decodeBody(rawBody: Buffer, contentType: string | undefined): unknown {
  let text = rawBody.toString('utf8');
  if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) {
      throw new ShepherdError('SHEPHERD_E_VALIDATION', 'payload: a form-encoded delivery needs a payload field; or set the webhook to send application/json', {
        details: { field: 'payload' },
      });
    }
    text = payload;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ShepherdError('SHEPHERD_E_VALIDATION', `body: not valid JSON (${(error as Error).message}); send the provider's JSON payload`, {
      cause: error,
      details: { field: 'body' },
    });
  }
}
