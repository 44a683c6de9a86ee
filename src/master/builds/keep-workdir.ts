/**
 * Keeping a failed build's tree for a debug session. Builders share one
 * directory per builder on a worker, which the next build reuses; a builder
 * with `keep_workdir_on_failure` asks the worker, when a build ends red, to
 * move that directory aside (`keep_workdir`). The worker decides under its
 * admin's `keep` policy and answers `workdir_kept`, which the master records
 * on the build as the property `workdir_kept` (the path on the worker) or
 * `workdir_not_kept` (the worker's reason). Debug sessions of that build then
 * open in the kept tree (the worker maps the build to it).
 */
import type { Logger } from 'pino';
import type { WorkdirKept } from '../../protocol/index.js';
import type { BuilderConfig } from '../config/schema.js';
import type { Build, Result } from '../domain.js';
import type { Store } from '../store/store.js';
import type { ConnectedWorker } from '../workers/connected-worker.js';

/** The build property naming the kept tree's path on the worker. */
export const KEPT_PROPERTY = 'workdir_kept';
/** The build property saying why the worker did not keep the tree. */
export const NOT_KEPT_PROPERTY = 'workdir_not_kept';

/** Whether a build that ended `result` should have its tree kept: the builder asks for it and the build is red. */
export function shouldKeepWorkdir(builder: Pick<BuilderConfig, 'keep_workdir_on_failure'>, result: Result | null): boolean {
  return builder.keep_workdir_on_failure === true && (result === 'FAILURE' || result === 'EXCEPTION');
}

/** What asking needs of a connection: the Shepherd agent's has it; a Buildbot worker's cannot keep trees. */
export interface KeepWorkdirChannel {
  keepWorkdir(buildId: number, builderDir: string): void;
}

function canKeep(connection: ConnectedWorker): connection is ConnectedWorker & KeepWorkdirChannel {
  return typeof (connection as Partial<KeepWorkdirChannel>).keepWorkdir === 'function';
}

/**
 * Called as a build finishes: asks its worker to keep the tree when the
 * builder wants it and the build is red. `connection` is the worker's live
 * connection (null when it is away: the next build will reuse the tree, so
 * there is nothing to keep any more). `builderDir` is the directory the
 * coordinator gave the build's steps. Returns why the tree is not kept when
 * that is known now (the worker is away, or its protocol cannot keep trees),
 * for the build's `workdir_not_kept`; null when nothing was wanted or the
 * worker was asked (its answer comes later).
 */
export function askToKeepWorkdir(connection: ConnectedWorker | null, build: Build, builder: BuilderConfig, builderDir: string, log: Logger): string | null {
  if (!shouldKeepWorkdir(builder, build.result)) return null;
  if (!connection) {
    log.info({ build: build.id, worker: build.worker }, 'cannot keep the failed build\'s tree: its worker is not connected');
    return `worker ${build.worker} was not connected when the build ended`;
  }
  if (!canKeep(connection)) {
    log.info({ build: build.id, worker: build.worker, protocol: connection.protocol }, 'cannot keep the failed build\'s tree: the worker\'s protocol has no way to');
    return `worker ${build.worker} is a ${connection.protocol === 'buildbot' ? 'Buildbot' : connection.protocol} worker, which cannot keep a build's tree`;
  }
  connection.keepWorkdir(build.id, builderDir);
  return null;
}

/** The build properties recording a worker's answer. */
export function keptProperties(message: Pick<WorkdirKept, 'path' | 'reason'>): Record<string, string> {
  if (message.path !== null) return { [KEPT_PROPERTY]: message.path };
  return { [NOT_KEPT_PROPERTY]: message.reason ?? 'the worker did not say why' };
}

/**
 * Records a worker's `workdir_kept` answer on the build. A worker may only
 * answer for builds it ran; anything else is logged and ignored.
 */
export async function recordWorkdirKept(deps: { store: Store; logger: Logger }, worker: string, message: WorkdirKept): Promise<Build | undefined> {
  const build = await deps.store.getBuild(message.build_id);
  if (!build || build.worker !== worker) {
    deps.logger.warn({ worker, build: message.build_id }, 'a worker answered keep_workdir for a build it did not run; ignored');
    return undefined;
  }
  const updated = await deps.store.updateBuildProperties(build.id, keptProperties(message));
  if (message.path !== null) deps.logger.info({ build: build.id, worker, path: message.path }, "failed build's tree kept");
  else deps.logger.info({ build: build.id, worker, reason: message.reason }, "failed build's tree not kept");
  return updated;
}
