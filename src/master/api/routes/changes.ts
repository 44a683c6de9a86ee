/**
 * Changes: what the change sources saw, newest first, each with the builds
 * whose blamelist holds it.
 */
import { ShepherdError } from '../../errors.js';
import type { ChangeSourceControl, MasterControl } from '../control.js';
import type { ApiRouter } from '../route.js';
import { ChangeEnvelopeJson, ChangeListJson, ChangeSourceListJson, ChangesQuery, IdParams, NameParams, PollResultJson } from '../schemas.js';
import { changeJson, changeWithBuildsJson } from '../views.js';

/** `GET /api/v1/changes`, `GET /api/v1/changes/:id`, `GET /api/v1/sources`, `POST /api/v1/sources/:name/poll`. */
export function registerChangeRoutes(api: ApiRouter, control: MasterControl, sources: ChangeSourceControl | undefined): void {
  api.route({
    method: 'GET',
    url: '/api/v1/sources',
    operationId: 'listChangeSources',
    summary: 'Every configured change source with its recorded branch heads',
    tag: 'changes',
    response: ChangeSourceListJson,
    async handler() {
      return {
        sources: await Promise.all(
          control.config.changes.map(async (source) => ({
            name: source.name,
            git: source.git,
            branches: [...source.branches],
            poll_ms: source.poll,
            repository: source.repository ?? null,
            heads: await control.store.getHeads(source.name),
          })),
        ),
      };
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/sources/:name/poll',
    operationId: 'pollChangeSource',
    summary: 'Poll a change source now',
    description: 'For a source without polling, or to pick up a push at once (e.g. from a post-receive hook).',
    tag: 'changes',
    write: true,
    params: NameParams,
    response: PollResultJson,
    async handler({ params }) {
      if (!sources || !control.config.changes.some((c) => c.name === params.name)) {
        throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no change source named "${params.name}"`, { details: { source: params.name } });
      }
      return { changes: (await sources.poll(params.name)).map(changeJson) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/changes',
    operationId: 'listChanges',
    summary: 'List changes, newest first, with the builds each triggered',
    description: 'Pass `next` from one page as `before` to get the following page.',
    tag: 'changes',
    query: ChangesQuery,
    response: ChangeListJson,
    async handler({ query }) {
      const changes = await control.store.listChanges({
        source: query.source,
        branch: query.branch,
        beforeId: query.before,
        limit: query.limit + 1,
      });
      const page = changes.slice(0, query.limit);
      // One query for the builds of the whole page, not one per change.
      const builds = await control.store.buildsOfChanges(page.map((c) => c.id));
      return {
        changes: page.map((change) => changeWithBuildsJson(change, builds)),
        next: changes.length > query.limit ? page[page.length - 1]!.id : null,
      };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/changes/:id',
    operationId: 'getChange',
    summary: 'One change with the builds it triggered',
    tag: 'changes',
    params: IdParams,
    response: ChangeEnvelopeJson,
    async handler({ params }) {
      const change = await control.store.getChange(params.id);
      if (!change) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `no change with id ${params.id}`);
      return { change: changeWithBuildsJson(change, await control.store.buildsOfChanges([change.id])) };
    },
  });
}
