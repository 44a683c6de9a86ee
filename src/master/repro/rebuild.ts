/**
 * Rebuilding a build "with extra properties or environment" (verbose mode,
 * a debug flag): a new request for the same builder, built from the original
 * request so it builds the same code (revision, branch, try patch, changes),
 * plus the overrides. Environment travels as `env.NAME` properties, which
 * `renderStep` adds to every step's environment: nothing else has to know.
 */
import type { ForceInput } from '../api/control.js';
import type { Build, BuildRequest, Properties } from '../domain.js';
import { ShepherdError } from '../errors.js';
import { ENV_PROPERTY_PREFIX, isEnvName } from '../scheduling/interpolate.js';

/** What the person asking for the rebuild adds. */
export interface RebuildOverrides {
  /** Merged over the original request's properties. */
  properties?: Properties;
  /** Added to every step's environment (as `env.NAME` properties), over the steps' own. */
  env?: Record<string, string>;
  reason?: string;
  submittedBy: string;
}

/** The properties that say which code a build built; the build's own values win over its request's (a collapsed build built the newest). */
const SOURCE_PROPERTIES = ['source', 'branch', 'revision'] as const;

/**
 * The request that rebuilds `build` (queued by `request`). A build of the
 * branch head is pinned to the revision it got, so the rebuild builds the
 * same code even if the branch has moved. Throws SHEPHERD_E_VALIDATION naming
 * an environment variable name no shell could export.
 */
export function rebuildInput(build: Build, request: BuildRequest, overrides: RebuildOverrides): ForceInput {
  const properties: Properties = { ...request.properties };
  for (const key of SOURCE_PROPERTIES) {
    const value = build.properties[key];
    if (value) properties[key] = value;
  }
  if (!properties.revision && build.properties.got_revision) properties.revision = build.properties.got_revision;
  Object.assign(properties, overrides.properties ?? {});
  for (const [name, value] of Object.entries(overrides.env ?? {})) {
    if (!isEnvName(name)) {
      throw new ShepherdError('SHEPHERD_E_VALIDATION', `env.${name}: expected a variable name (letters, digits and "_", not starting with a digit)`, {
        details: { field: `env.${name}` },
      });
    }
    properties[`${ENV_PROPERTY_PREFIX}${name}`] = value;
  }
  return {
    builder: build.builder,
    properties,
    reason: overrides.reason ?? `rebuild of ${build.builder} #${build.number} (build ${build.id}) by ${overrides.submittedBy}`,
    submittedBy: overrides.submittedBy,
    priority: request.priority,
    // A rebuild is asked for one build: never folded into another request.
    collapseKey: null,
    patchId: request.patchId,
    changeIds: request.changeIds,
  };
}
