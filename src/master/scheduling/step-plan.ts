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
