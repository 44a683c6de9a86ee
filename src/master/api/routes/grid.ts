/**
 * The grid and console views: the newest changes, the builders that match
 * the filters, and for every (change, builder) the builds whose blamelist
 * holds the change. Two queries, whatever the numbers of changes and
 * builders.
 */
import type { ApiRouter } from '../route.js';
import type { MasterControl } from '../control.js';
import { GridJson, GridQuery } from '../schemas.js';
import { changeJson } from '../views.js';

/** `GET /api/v1/grid`. */
export function registerGridRoutes(api: ApiRouter, control: MasterControl): void {
  api.route({
    method: 'GET',
    url: '/api/v1/grid',
    operationId: 'getGrid',
    summary: 'The newest changes and, per builder, the builds that covered each',
    description:
      'A build appears under every change in its blamelist (a collapsed build under each of its changes); ' +
      'builds with no changes (plain forces) do not appear. `builder` matches part of the name, ignoring case; ' +
      '`tag` one tag exactly.',
    tag: 'changes',
    query: GridQuery,
    response: GridJson,
    async handler({ query }) {
      const part = query.builder?.toLowerCase();
      const builders = control.config.builders.filter(
        (b) => (part === undefined || b.name.toLowerCase().includes(part)) && (query.tag === undefined || b.tags.includes(query.tag)),
      );
      const changes = await control.store.listChanges({ source: query.source, branch: query.branch, limit: query.changes });
      const cells = await control.store.gridBuilds(
        changes.map((c) => c.id),
        builders.map((b) => b.name),
      );
      return {
        builders: builders.map((b) => ({ name: b.name, tags: [...b.tags] })),
        changes: changes.map(changeJson),
        cells: cells.map((c) => ({
          change_id: c.changeId,
          builder: c.builder,
          build_id: c.buildId,
          number: c.number,
          state: c.state,
          result: c.result,
        })),
      };
    },
  });
}
