/**
 * What a checkout step checks out, decided from the build's properties and
 * the change source: the repository URL, the branch and the revision (empty:
 * the branch head at the time the step runs, as for a forced build).
 */
import type { ChangeSourceConfig, CheckoutConfig } from '../config/schema.js';
import type { Properties } from '../domain.js';

/** The repository, branch and revision a checkout step fetches. */
export interface CheckoutTarget {
  repository: string;
  branch: string;
  /** Empty: whatever the branch points at when the step runs. */
  revision: string;
  mode: CheckoutConfig['mode'];
  shallow: CheckoutConfig['shallow'];
}

/**
 * The build's own branch and revision win when the build is of this source
 * (a change, nightly or try build of it); otherwise (a forced build, or a
 * build of another source) the step's `branch`, else the source's first
 * branch that is a plain name, else `main`.
 */
export function checkoutTarget(step: CheckoutConfig, source: ChangeSourceConfig, properties: Properties): CheckoutTarget {
  const ownBuild = !properties.source || properties.source === source.name;
  const fallbackBranch = step.branch ?? source.branches.find((b) => !b.includes('*')) ?? 'main';
  const branch = (ownBuild && properties.branch) || fallbackBranch;
  const revision = ownBuild ? (properties.revision ?? '') : '';
  return { repository: source.git, branch, revision, mode: step.mode, shallow: step.shallow };
}
