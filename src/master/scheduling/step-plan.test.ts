import { describe, expect, it } from 'vitest';
import { buildResult, haltAfter, nextStepIndex, stepResultFromOutcome } from './step-plan.js';

const step = (halt_on_failure = true, always_run = false) => ({ halt_on_failure, always_run });
const outcome = (o: Partial<Parameters<typeof stepResultFromOutcome>[0]>) => ({
  exit_code: 0, signal: null, duration_ms: 1, ended_by: null, spawn_error: null, ...o,
});
const limits = { timeoutMs: 1_200_000, maxTimeMs: 7_200_000 };

describe('step plan', () => {
  const steps = [step(), step(true), step(false), step(true, true)];

  it('runs every step in order when nothing halts', () => {
    expect(nextStepIndex(steps, -1, null)).toBe(0);
    expect(nextStepIndex(steps, 2, null)).toBe(3);
    expect(nextStepIndex(steps, 3, null)).toBeNull();
  });

  it('after a halting failure runs only always_run steps', () => {
    const halt = haltAfter(steps[0]!, 'FAILURE', null);
    expect(halt).toBe('failure');
    expect(nextStepIndex(steps, 0, halt)).toBe(3);
  });

  it('a failure with halt_on_failure false does not halt; cancel and exception always do', () => {
    expect(haltAfter(steps[2]!, 'FAILURE', null)).toBeNull();
    expect(haltAfter(steps[2]!, 'CANCELLED', null)).toBe('cancelled');
    expect(haltAfter(steps[2]!, 'EXCEPTION', null)).toBe('exception');
    expect(haltAfter(steps[2]!, 'SUCCESS', 'failure')).toBe('failure');
  });

  it('combines results, worst wins, skipped ignored, cancel overrides', () => {
    expect(buildResult(['SUCCESS', 'SKIPPED', 'SUCCESS'], false)).toBe('SUCCESS');
    expect(buildResult(['SUCCESS', 'WARNINGS'], false)).toBe('WARNINGS');
    expect(buildResult(['FAILURE', 'SUCCESS', null], false)).toBe('FAILURE');
    expect(buildResult(['EXCEPTION', 'FAILURE'], false)).toBe('EXCEPTION');
    expect(buildResult(['SUCCESS'], true)).toBe('CANCELLED');
  });

  it('maps process outcomes to results with a reason', () => {
    expect(stepResultFromOutcome(outcome({}), limits)).toEqual({ result: 'SUCCESS', summary: null });
    expect(stepResultFromOutcome(outcome({ exit_code: 2 }), limits)).toEqual({ result: 'FAILURE', summary: 'exit code 2' });
    expect(stepResultFromOutcome(outcome({ exit_code: null, signal: 'SIGSEGV' }), limits).summary).toBe('killed by SIGSEGV');
    expect(stepResultFromOutcome(outcome({ exit_code: null, ended_by: 'timeout' }), limits).summary).toBe('no output for 20m: killed');
    expect(stepResultFromOutcome(outcome({ exit_code: null, ended_by: 'max_time' }), limits).summary).toBe('ran longer than 2h: killed');
    expect(stepResultFromOutcome(outcome({ exit_code: null, ended_by: 'cancel' }), limits).result).toBe('CANCELLED');
    expect(stepResultFromOutcome(outcome({ exit_code: null, spawn_error: 'ENOENT: make' }), limits)).toEqual({
      result: 'FAILURE', summary: 'could not start: ENOENT: make',
    });
  });
});
