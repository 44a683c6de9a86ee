/**
 * Workers: every worker (the config file's and those registered by
 * approving applications) with its live state, and what its admin may set.
 */
import { ShepherdError } from '../../errors.js';
import type { MasterControl } from '../control.js';
import type { ApiRouter } from '../route.js';
import { requireTokenOrWorkerSecret } from '../auth.js';
import { ContactBody, MaintenanceBody, NameParams, PauseBody, WorkerJson, WorkerListJson } from '../schemas.js';
import { workerJson } from '../views.js';

/** `GET /api/v1/workers`, `GET /api/v1/workers/:name`, and the admin's pause, resume and contact. */
export function registerWorkerRoutes(api: ApiRouter, control: MasterControl): void {
  api.route({
    method: 'GET',
    url: '/api/v1/workers',
    operationId: 'listWorkers',
    summary: 'List configured workers with their live state',
    tag: 'workers',
    response: WorkerListJson,
    async handler() {
      return { workers: (await control.workers()).map(workerJson) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/workers/:name',
    operationId: 'getWorker',
    summary: 'One worker with its live state',
    tag: 'workers',
    params: NameParams,
    response: WorkerJson,
    async handler({ params }) {
      const worker = (await control.workers()).find((w) => w.name === params.name);
      if (!worker) {
        throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no worker named "${params.name}"; GET /api/v1/workers lists them`);
      }
      return workerJson(worker);
    },
  });

  const byAdmin = (name: string, authorization: string | undefined) => {
    const who = requireTokenOrWorkerSecret(
      { apiToken: control.apiToken, apiTokenEnv: control.config.master.api_token_env },
      authorization,
      (secret) => control.isWorkerSecret(name, secret),
    );
    return who === 'admin' ? `admin of ${name}` : 'operator';
  };
  const view = async (name: string) => workerJson((await control.workers()).find((w) => w.name === name)!);

  for (const action of ['pause', 'resume'] as const) {
    api.route({
      method: 'POST',
      url: `/api/v1/workers/:name/${action}`,
      operationId: `${action}Worker`,
      summary: action === 'pause' ? 'Pause a worker: it takes no new builds and raises no alerts' : 'Resume a paused worker',
      description: "Needs the worker's own secret (its admin) or the API token as `Authorization: Bearer ...`. Running builds finish.",
      tag: 'workers',
      params: NameParams,
      ...(action === 'pause' ? { body: PauseBody } : {}),
      response: WorkerJson,
      async handler({ params, request }) {
        findWorker(control, params.name);
        const by = byAdmin(params.name, request.headers.authorization);
        await control.setPaused(params.name, action === 'pause', by);
        return view(params.name);
      },
    });
  }

  api.route({
    method: 'POST',
    url: '/api/v1/workers/:name/contact',
    operationId: 'setWorkerContact',
    summary: "Set a worker's admin contact and notes",
    description: "Needs the worker's own secret (its admin) or the API token. The config's `admins`, when set, still come first.",
    tag: 'workers',
    params: NameParams,
    body: ContactBody,
    response: WorkerJson,
    async handler({ params, body, request }) {
      findWorker(control, params.name);
      byAdmin(params.name, request.headers.authorization);
      await control.setContact(params.name, body.contact, body.notes);
      return view(params.name);
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/workers/:name/maintenance',
    operationId: 'setWorkerMaintenance',
    summary: "Replace the maintenance windows a worker's admin set",
    description:
      "Needs the worker's own secret (its admin) or the API token. While a window is open the worker raises no missing-worker alert. " +
      "The config's windows and those in the agent's own config are kept apart and stay.",
    tag: 'workers',
    params: NameParams,
    body: MaintenanceBody,
    response: WorkerJson,
    async handler({ params, body, request }) {
      findWorker(control, params.name);
      byAdmin(params.name, request.headers.authorization);
      await control.setMaintenance(params.name, body.windows.map((w) => ({ cron: w.cron, duration: w.duration })));
      return view(params.name);
    },
  });
}

function findWorker(control: MasterControl, name: string): void {
  if (control.workerSource(name) === undefined) {
    throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no worker named "${name}"; GET /api/v1/workers lists them`);
  }
}
