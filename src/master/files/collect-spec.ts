/**
 * What a step's command asks the worker to send back (`StepCommand.collect`),
 * from the step's config and the master's `artifacts` limits. One entry per
 * kind of file; each kind has its own function below, so adding one is a
 * function and a line in `collectSpec`.
 */
import type { CollectEntry, StepCommand } from '../../protocol/index.js';
import type { Config, StepConfig } from '../config/schema.js';

/** The master's section the limits come from. */
type MasterConfig = Pick<Config['master'], 'artifacts'>;

/** The `collect` of a step's command: undefined when the step sends nothing back. */
export function collectSpec(step: Readonly<StepConfig>, master: Readonly<MasterConfig>): StepCommand['collect'] {
  const entries = [
    artifactEntry(step, master),
    testResultsEntry(step, master),
  ].filter((entry): entry is CollectEntry => entry !== undefined);
  return entries.length > 0 ? entries : undefined;
}

/**
 * `artifacts: [globs]` or `{ globs, max_file, max_total }`. A step's own
 * limits are capped by the master's: the master refuses files over its
 * `max_file`, and no step's files may exceed the whole build's `max_build`.
 */
export function artifactEntry(step: Readonly<StepConfig>, master: Readonly<MasterConfig>): CollectEntry | undefined {
  const spec = step.artifacts;
  if (!spec) return undefined;
  const { globs, max_file, max_total } = Array.isArray(spec) ? { globs: spec, max_file: undefined, max_total: undefined } : spec;
  const limits = master.artifacts;
  return {
    kind: 'artifact',
    globs: [...globs],
    max_file_bytes: Math.min(max_file ?? limits.max_file, limits.max_file),
    max_total_bytes: Math.min(max_total ?? limits.max_build, limits.max_build),
  };
}

/** `test_results: { junit: globs }`: the JUnit files, within the master's per-file and per-build limits. */
export function testResultsEntry(step: Readonly<StepConfig>, master: Readonly<MasterConfig>): CollectEntry | undefined {
  const junit = step.test_results?.junit;
  if (junit === undefined) return undefined;
  const limits = master.artifacts;
  return { kind: 'test_results', globs: [junit].flat(), max_file_bytes: limits.max_file, max_total_bytes: limits.max_build };
}
