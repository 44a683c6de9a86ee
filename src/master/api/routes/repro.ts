/**
 * Reproducing a build elsewhere: the script that runs its steps again on
 * another machine, and rebuilding it with extra properties or environment.
 */
import { ShepherdError } from '../../errors.js';
import { rebuildInput } from '../../repro/rebuild.js';
import { reproScript, type ReproScript } from '../../repro/repro-script.js';
import type { MasterControl } from '../control.js';
import { findBuild } from '../lookups.js';
import type { ApiRouter } from '../route.js';
import { IdParams, RebuildBody, RequestEnvelopeJson, ReproQuery } from '../schemas.js';
import { requestJson } from '../views.js';

/** The script's media type: what `file` and browsers call a POSIX shell script. */
export const REPRO_MEDIA_TYPE = 'text/x-shellscript; charset=utf-8';

/**
 * `GET /api/v1/builds/:id/repro`, `POST /api/v1/builds/:id/rebuild`.
 * `publicUrl` names the master in the script's header (empty: the address the
 * request came to).
 */
export function registerReproRoutes(api: ApiRouter, control: MasterControl, publicUrl: () => string = () => ''): void {
  api.route({
    method: 'GET',
    url: '/api/v1/builds/:id/repro',
    operationId: 'getBuildRepro',
    summary: 'A POSIX sh script that reproduces a build on another machine',
    description:
      "Run it with `sh` in an empty directory: it checks out the build's revision (and try patch) and runs each step in order, " +
      'in its working directory with its environment, halting as the build did. Passwords in URLs are replaced by ***. ' +
      '`format=json` returns `{ script, header, steps, redacted }` instead.',
    tag: 'builds',
    params: IdParams,
    query: ReproQuery,
    response: { mediaType: REPRO_MEDIA_TYPE, description: 'The script (with format=json: application/json, its parts)' },
    async handler({ params, query, request, reply }) {
      const build = await findBuild(control, params.id);
      const [steps, blamelist, buildRequest, workers] = await Promise.all([
        control.store.getSteps(build.id),
        control.store.getBlamelist(build.id),
        control.store.getRequest(build.requestId),
        control.workers(),
      ]);
      let patch: Buffer | null = null;
      if (buildRequest?.patchId != null) {
        const stored = await control.store.getPatch(buildRequest.patchId);
        if (!stored) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `the try patch ${buildRequest.patchId} of build ${build.id} is no longer stored`);
        patch = stored.data;
      }
      const script = reproScript({
        build,
        steps,
        builder: control.config.builders.find((b) => b.name === build.builder),
        sources: control.config.changes,
        patch,
        blamelist,
        worker: { name: build.worker, dimensions: workers.find((w) => w.name === build.worker)?.dimensions ?? {} },
        masterUrl: publicUrl() || `${request.protocol}://${request.host}`,
      });
      reply.header('cache-control', build.state === 'finished' ? 'no-cache' : 'no-store');
      if (query.format === 'json') {
        reply.type('application/json; charset=utf-8').send(reproJson(build.id, script));
        return;
      }
      reply
        .type(REPRO_MEDIA_TYPE)
        .header('content-disposition', `inline; filename="repro-${build.builder}-${build.number}.sh"`)
        .send(script.text);
    },
  });

  api.route({
    method: 'POST',
    url: '/api/v1/builds/:id/rebuild',
    operationId: 'rebuildBuild',
    summary: 'Queue a build of the same code again, with extra properties or environment',
    description:
      "A new request for the build's builder with the original request's properties, try patch and changes (a build of the branch " +
      'head is pinned to the revision it got), plus `properties`; `env` entries are added to every step\'s environment as `env.NAME` properties.',
    tag: 'builds',
    write: true,
    params: IdParams,
    body: RebuildBody,
    status: 201,
    response: RequestEnvelopeJson,
    async handler({ params, body }) {
      const build = await findBuild(control, params.id);
      const original = await control.store.getRequest(build.requestId);
      if (!original) throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `the build request ${build.requestId} of build ${build.id} is no longer stored`);
      const input = rebuildInput(build, original, {
        ...(body.properties ? { properties: body.properties } : {}),
        ...(body.env ? { env: body.env } : {}),
        ...(body.reason ? { reason: body.reason } : {}),
        submittedBy: body.submitted_by ?? 'api',
      });
      return { request: requestJson(await control.force(input)) };
    },
  });
}

/** The JSON form: the script plus its parts, keys as the rest of the API writes them. */
function reproJson(buildId: number, script: ReproScript) {
  return {
    build_id: buildId,
    script: script.text,
    header: script.header,
    redacted: script.redacted,
    steps: script.steps.map((step) => ({
      index: step.index,
      name: step.name,
      result_in_build: step.resultInBuild,
      commented_out: step.commentedOut,
      dir: step.dir,
      env: step.env,
      command: step.command,
      problem: step.problem,
      notes: step.notes,
      halt_on_failure: step.haltOnFailure,
      always_run: step.alwaysRun,
      writes_patch: step.writesPatch,
    })),
  };
}
