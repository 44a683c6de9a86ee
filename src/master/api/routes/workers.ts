/**
 * Workers: every configured worker with its live state.
 */
import { ShepherdError } from '../../errors.js';
import type { MasterControl } from '../control.js';
import type { ApiRouter } from '../route.js';
import { NameParams, WorkerJson, WorkerListJson } from '../schemas.js';
import { workerJson } from '../views.js';

/** `GET /api/v1/workers`, `GET /api/v1/workers/:name`. */
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
}
