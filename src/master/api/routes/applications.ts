/**
 * Joining the farm: volunteers propose workers (open to anyone, within
 * `fleet.join`), operators list and decide with the API token, the
 * volunteer follows its application with the token it was given, and
 * operators retire registered workers (their history stays).
 */
import { ShepherdError } from '../../errors.js';
import type { ApplicationControl, ApplicationStatus, ApplicationView } from '../../fleet/applications.js';
import type { RegisteredWorker } from '../../store/store.js';
import type { MasterControl } from '../control.js';
import type { ApiRouter } from '../route.js';
import {
  ApplicationJson,
  ApplicationListJson,
  ApplicationParams,
  ApplicationsQuery,
  ApplicationStatusJson,
  ApproveBody,
  DeclineBody,
  JoinBody,
  JoinReplyJson,
  NameParams,
  RetireBody,
  RetiredWorkerJson,
  RetiredWorkerListJson,
} from '../schemas.js';

/** The application routes and `POST /workers/:name/retire`, `GET /retired-workers`. */
export function registerApplicationRoutes(api: ApiRouter, control: MasterControl, applications: ApplicationControl, publicUrl: () => string): void {
  api.route({
    method: 'POST',
    url: '/api/v1/applications',
    operationId: 'submitApplication',
    summary: 'Offer a worker to the farm (no token needed)',
    description:
      'Operators are mailed (`fleet.operators`) and decide. Keep the returned token: with it, `POST /applications/:id/status` ' +
      'tells the outcome and, once approved, returns the new worker\'s secret exactly once. 403 when `fleet.join.open` is false, 429 past `fleet.join.max_pending`.',
    tag: 'fleet',
    body: JoinBody,
    status: 201,
    bodyLimit: 16 * 1024,
    response: JoinReplyJson,
    async handler({ body }) {
      const { application, token } = await applications.submit({
        name: body.name,
        dimensions: body.dimensions,
        maxBuilds: body.max_builds,
        contact: body.contact.trim(),
        notes: body.notes?.trim() || null,
      });
      return { application: applicationJson(application), token, status_url: `${publicUrl()}/join?application=${application.id}` };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/applications',
    operationId: 'listApplications',
    summary: 'Applications, newest first (operators: needs the API token)',
    description: 'Needs the API token: applications carry volunteers\' contacts.',
    tag: 'fleet',
    write: true,
    query: ApplicationsQuery,
    response: ApplicationListJson,
    async handler({ query }) {
      return { applications: (await applications.list(query.state)).map(applicationJson) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/applications/:id',
    operationId: 'getApplication',
    summary: 'One application (operators: needs the API token)',
    tag: 'fleet',
    write: true,
    params: ApplicationParams,
    response: ApplicationJson,
    async handler({ params }) {
      return applicationJson(await applications.get(params.id));
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/applications/:id/approve',
    operationId: 'approveApplication',
    summary: 'Approve an application: the worker is created (optionally under another name)',
    tag: 'fleet',
    write: true,
    params: ApplicationParams,
    body: ApproveBody,
    response: ApplicationJson,
    async handler({ params, body }) {
      return applicationJson(
        await applications.approve(params.id, {
          by: body.by ?? 'operator',
          ...(body.name !== undefined ? { name: body.name } : {}),
          ...(body.max_builds !== undefined ? { maxBuilds: body.max_builds } : {}),
        }),
      );
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/applications/:id/decline',
    operationId: 'declineApplication',
    summary: 'Decline an application; the reason is mailed to the volunteer',
    tag: 'fleet',
    write: true,
    params: ApplicationParams,
    body: DeclineBody,
    response: ApplicationJson,
    async handler({ params, body }) {
      return applicationJson(await applications.decline(params.id, { by: body.by ?? 'operator', reason: body.reason }));
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/applications/:id/status',
    operationId: 'applicationStatus',
    summary: "Where an application stands, for its volunteer (the application's token as Bearer)",
    description:
      "Pass the token `POST /applications` returned as `Authorization: Bearer <token>`. The first call after approval returns the worker's secret, " +
      'the command that starts the agent and its config file; later calls never return the secret again.',
    tag: 'fleet',
    params: ApplicationParams,
    response: ApplicationStatusJson,
    async handler({ params, request }) {
      const token = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!token) {
        throw new ShepherdError('SHEPHERD_E_UNAUTHORIZED', "pass the application's token as 'Authorization: Bearer <token>' (shepherd join --status ID --token TOKEN)");
      }
      return statusJson(await applications.status(params.id, token));
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/workers/:name/retire',
    operationId: 'retireWorker',
    summary: 'Retire a registered worker: it can no longer connect; its builds and history stay',
    description: 'Workers from the config file are retired by removing them from it. Refused (409) while the worker runs builds: pause it first.',
    tag: 'workers',
    write: true,
    params: NameParams,
    body: RetireBody,
    response: RetiredWorkerJson,
    async handler({ params, body }) {
      const worker = await applications.retire(params.name, body.by ?? 'operator');
      const runs = await control.store.countBuildsByWorker();
      return retiredJson(worker, runs[worker.name] ?? 0);
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/retired-workers',
    operationId: 'listRetiredWorkers',
    summary: 'Retired workers, most recently retired first',
    tag: 'workers',
    response: RetiredWorkerListJson,
    async handler() {
      const [workers, runs] = await Promise.all([applications.retired(), control.store.countBuildsByWorker()]);
      return { workers: workers.map((w) => retiredJson(w, runs[w.name] ?? 0)) };
    },
  });
}

function applicationJson(application: ApplicationView): ApplicationJson {
  return {
    id: application.id,
    name: application.name,
    dimensions: application.dimensions,
    max_builds: application.maxBuilds,
    contact: application.contact,
    notes: application.notes,
    state: application.state,
    submitted_at: application.submittedAt,
    decided_by: application.decidedBy,
    decided_at: application.decidedAt,
    reason: application.reason,
    worker: application.worker,
    platforms: application.platforms,
    builders: application.builders,
  };
}

function statusJson(status: ApplicationStatus): ApplicationStatusJson {
  return {
    id: status.id,
    state: status.state,
    reason: status.reason,
    worker: status.worker,
    secret: status.secret,
    secret_collected_at: status.secretCollectedAt,
    command: status.command,
    config: status.config,
  };
}

function retiredJson(worker: RegisteredWorker, buildsRun: number): RetiredWorkerJson {
  return {
    name: worker.name,
    dimensions: worker.dimensions,
    admins: worker.admins,
    application_id: worker.applicationId,
    created_at: worker.createdAt,
    retired_at: worker.retiredAt!,
    retired_by: worker.retiredBy,
    builds_run: buildsRun,
  };
}
