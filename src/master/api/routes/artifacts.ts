/**
 * A build's artifacts: the list (stored and skipped files, with download
 * links) and downloads, streamed from the data directory with their exact
 * length. Stored files are read through `StoredFiles` (`src/master/files/`).
 */
import type { Step } from '../../domain.js';
import { ShepherdError } from '../../errors.js';
import { StoredFiles } from '../../files/stored-files.js';
import type { StepFile } from '../../store/store.js';
import type { MasterControl } from '../control.js';
import { findBuild } from '../lookups.js';
import type { ApiRouter } from '../route.js';
import { ArtifactListJson, ArtifactListQuery, ArtifactParams, ArtifactQuery, type ArtifactJson } from '../schemas.js';

/** `GET /api/v1/builds/:id/artifacts`, `GET /api/v1/builds/:id/artifacts/*`. */
export function registerArtifactRoutes(api: ApiRouter, control: MasterControl): void {
  const files = new StoredFiles({ store: control.store, dataDir: control.config.master.data_dir });

  api.route({
    method: 'GET',
    url: '/api/v1/builds/:id/artifacts',
    operationId: 'listBuildArtifacts',
    summary: "A build's artifacts and test results files",
    description: 'Skipped files are listed too, with the reason, so a missing core dump is explained.',
    tag: 'builds',
    params: ArtifactParams.pick({ id: true }),
    query: ArtifactListQuery,
    response: ArtifactListJson,
    async handler({ params, query }) {
      const build = await findBuild(control, params.id);
      const [all, steps] = await Promise.all([files.list(build.id), control.store.getSteps(build.id)]);
      const listed = query.kind ? all.filter((f) => f.kind === query.kind) : all;
      return { build_id: build.id, artifacts: listed.map((file) => artifactJson(file, all, steps)) };
    },
  });

  api.route({
    method: 'GET',
    url: '/api/v1/builds/:id/artifacts/*',
    operationId: 'getBuildArtifact',
    summary: 'Download one of a build\'s files',
    description: 'When several steps (or kinds) sent a file of that name, `step` and `kind` say which one; the list\'s `url` always names one.',
    tag: 'builds',
    params: ArtifactParams,
    query: ArtifactQuery,
    response: { mediaType: 'application/octet-stream', description: "The file's bytes, as an attachment." },
    async handler({ params, query, reply }) {
      const build = await findBuild(control, params.id);
      const name = params['*'];
      const [all, steps] = await Promise.all([files.list(build.id), control.store.getSteps(build.id)]);
      const step = query.step === undefined ? undefined : steps.find((s) => s.name === query.step) ?? steps.find((s) => String(s.index) === query.step);
      if (query.step !== undefined && !step) {
        throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `build ${build.id} has no step "${query.step}"`, { details: { build_id: build.id, step: query.step } });
      }
      const matches = all.filter((f) => f.name === name && (!step || f.stepId === step.id) && (!query.kind || f.kind === query.kind));
      if (matches.length === 0) {
        throw new ShepherdError('SHEPHERD_E_NOT_FOUND', `build ${build.id} has no file named "${name}"; GET /api/v1/builds/${build.id}/artifacts lists them`, {
          details: { build_id: build.id, name },
        });
      }
      if (matches.length > 1) {
        const choices = matches.map((f) => `step=${stepOf(f, steps)?.name ?? f.stepId}&kind=${f.kind}`);
        throw new ShepherdError('SHEPHERD_E_CONFLICT', `build ${build.id} has ${matches.length} files named "${name}": add ${choices.join(' or ')}`, {
          details: { build_id: build.id, name },
        });
      }
      const opened = await files.open(matches[0]!.id);
      const base = name.slice(name.lastIndexOf('/') + 1);
      reply
        .type('application/octet-stream')
        .header('content-length', String(opened.size))
        .header('x-content-type-options', 'nosniff')
        .header('content-disposition', contentDisposition(base));
      reply.send(opened.stream);
    },
  });
}

function stepOf(file: StepFile, steps: readonly Step[]): Step | undefined {
  return steps.find((s) => s.id === file.stepId);
}

/** The list entry of a file; its URL names the step and kind only when the name alone is ambiguous. */
function artifactJson(file: StepFile, all: readonly StepFile[], steps: readonly Step[]): ArtifactJson {
  const step = stepOf(file, steps);
  const namesakes = all.filter((f) => f.name === file.name && f.path !== null);
  const path = `/api/v1/builds/${file.buildId}/artifacts/${file.name.split('/').map(encodeURIComponent).join('/')}`;
  const query = namesakes.length > 1 ? `?step=${encodeURIComponent(step?.name ?? String(file.stepId))}&kind=${file.kind}` : '';
  return {
    id: file.id,
    name: file.name,
    kind: file.kind,
    step: { id: file.stepId, index: step?.index ?? 0, name: step?.name ?? '' },
    size: file.size,
    skipped: file.skipped,
    created_at: file.createdAt,
    url: file.path === null ? null : path + query,
  };
}

/** `attachment; filename="x"; filename*=UTF-8''x`: ASCII for old clients, the exact name for the others. */
function contentDisposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}
