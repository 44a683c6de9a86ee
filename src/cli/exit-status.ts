/**
 * Exit statuses that depend on what happened, not on how the CLI failed.
 */
import type { Result } from '../master/domain.js';
import { EXIT } from './errors.js';

/** `force --wait`: 0 only when the build succeeded; WARNINGS, FAILURE, CANCELLED... are 1. */
export function exitStatusForResult(result: Result | null): number {
  return result === 'SUCCESS' ? EXIT.ok : EXIT.failure;
}
