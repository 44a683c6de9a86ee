/**
 * The order of a build's steps and how results combine: pure decisions.
 */
import { worstResult, type Result } from '../domain.js';
import type { StepOutcome } from '../../protocol/index.js';
import { formatDuration } from '../config/units.js';

/** What the plan needs of a configured step. */
export interface PlannedStep {
  halt_on_failure: boolean;
  always_run: boolean;
}

/** Why a build stops running its ordinary steps. */
export type HaltReason = 'failure' | 'exception' | 'cancelled' | null;

/** The halt a finished step causes, given the halt already in force. */
export function haltAfter(step: PlannedStep, result: Result, current: HaltReason): HaltReason {
  if (current) return current;
  if (result === 'CANCELLED') return 'cancelled';
  if (result === 'EXCEPTION') return 'exception';
  if (result === 'FAILURE' && step.halt_on_failure) return 'failure';
  return null;
}

/**
 * The index of the next step to run after `after` (-1 for the first), or null
 * when the build is done. Once halted, only `always_run` steps still run.
 */
export function nextStepIndex(steps: readonly PlannedStep[], after: number, halt: HaltReason): number | null {
  for (let i = after + 1; i < steps.length; i++) {
    if (!halt || steps[i]!.always_run) return i;
  }
  return null;
}

/** A build's result from its steps' results; a cancelled build is CANCELLED whatever its steps did. */
export function buildResult(stepResults: readonly (Result | null)[], cancelled: boolean): Result {
  if (cancelled) return 'CANCELLED';
  let result: Result = 'SUCCESS';
  for (const r of stepResults) if (r && r !== 'SKIPPED') result = worstResult(result, r);
  return result;
}

/** Limits a step ran under, for explaining timeouts. */
export interface StepLimits {
  timeoutMs: number;
  maxTimeMs: number;
}

/** A step's result and a one-line summary from how its process ended. */
export function stepResultFromOutcome(outcome: StepOutcome, limits: StepLimits): { result: Result; summary: string | null } {
  if (outcome.spawn_error) return { result: 'FAILURE', summary: `could not start: ${outcome.spawn_error}` };
  switch (outcome.ended_by) {
    case 'cancel':
      return { result: 'CANCELLED', summary: 'cancelled' };
    case 'timeout':
      return { result: 'FAILURE', summary: `no output for ${formatDuration(limits.timeoutMs)}: killed` };
    case 'max_time':
      return { result: 'FAILURE', summary: `ran longer than ${formatDuration(limits.maxTimeMs)}: killed` };
    case null:
      break;
  }
  if (outcome.exit_code === 0) return { result: 'SUCCESS', summary: null };
  if (outcome.exit_code !== null) return { result: 'FAILURE', summary: `exit code ${outcome.exit_code}` };
  return { result: 'FAILURE', summary: `killed by ${outcome.signal ?? 'a signal'}` };
}

/** A step of a build's plan: a configured step, or the re-run of one's failed tests (`rerunOf`: the configured step's index in the plan). */
export type PlannedStepConfig<S> = S & { rerunOf?: number };

/** The suffix of the step that re-runs a step's failed tests: a space cannot appear in a configured step's name, so it never clashes. */
export const RERUN_SUFFIX = ' (re-run)';

/**
 * A build's steps: the configured ones, each with `rerun_failed` followed by
 * the step that re-runs its failed tests. That step runs even after its
 * step failed (it exists for that) and never halts the build itself; the
 * coordinator skips it when there is nothing to re-run.
 */
export function plannedSteps<S extends { name: string; rerun_failed?: string | undefined; always_run: boolean; halt_on_failure: boolean }>(
  steps: readonly S[],
): PlannedStepConfig<S>[] {
  const plan: PlannedStepConfig<S>[] = [];
  for (const step of steps) {
    const index = plan.length;
    plan.push(step);
    if (step.rerun_failed !== undefined) {
      plan.push({ ...step, name: `${step.name}${RERUN_SUFFIX}`, run: step.rerun_failed, rerun_failed: undefined, always_run: true, halt_on_failure: false, rerunOf: index });
    }
  }
  return plan;
}
