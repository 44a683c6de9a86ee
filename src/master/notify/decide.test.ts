import { describe, expect, it } from 'vitest';
import type { NotifyWhenValue } from '../config/schema.js';
import type { Result } from '../domain.js';
import { countsForTransitions, outcomeOf, shouldNotify, transitionOf } from './decide.js';

const b = (result: Result) => ({ result });

describe('transitionOf', () => {
  it('takes a builder with no previous counted build as passing', () => {
    expect(transitionOf(b('FAILURE'), false, undefined)).toBe('failing');
    expect(transitionOf(b('SUCCESS'), false, undefined)).toBe('still_passing');
  });

  it('names the four transitions; WARNINGS passes and EXCEPTION fails', () => {
    expect(transitionOf(b('FAILURE'), false, b('SUCCESS'))).toBe('failing');
    expect(transitionOf(b('EXCEPTION'), false, b('WARNINGS'))).toBe('failing');
    expect(transitionOf(b('FAILURE'), false, b('EXCEPTION'))).toBe('still_failing');
    expect(transitionOf(b('WARNINGS'), false, b('FAILURE'))).toBe('recovered');
    expect(transitionOf(b('SUCCESS'), false, b('WARNINGS'))).toBe('still_passing');
  });

  it('has no transition for RETRY, CANCELLED or try builds', () => {
    expect(transitionOf(b('RETRY'), false, b('SUCCESS'))).toBeNull();
    expect(transitionOf(b('CANCELLED'), false, b('FAILURE'))).toBeNull();
    expect(transitionOf(b('FAILURE'), true, b('SUCCESS'))).toBeNull();
  });

  it('counts only passing or failing non-try builds', () => {
    expect(outcomeOf(null)).toBeNull();
    expect(outcomeOf('SKIPPED')).toBeNull();
    expect(countsForTransitions(b('SUCCESS'), false)).toBe(true);
    expect(countsForTransitions(b('SUCCESS'), true)).toBe(false);
    expect(countsForTransitions(b('CANCELLED'), false)).toBe(false);
  });
});

describe('shouldNotify', () => {
  const byDefault: { when: NotifyWhenValue[] } = { when: ['failing', 'recovered'] };

  it('by default speaks when a builder breaks or recovers, not while it stays broken', () => {
    expect(shouldNotify(byDefault, 'failing', 'b')).toBe(true);
    expect(shouldNotify(byDefault, 'recovered', 'b')).toBe(true);
    expect(shouldNotify(byDefault, 'still_failing', 'b')).toBe(false);
    expect(shouldNotify(byDefault, 'still_passing', 'b')).toBe(false);
  });

  it('every_failure covers repeated failures; finished covers every counted build', () => {
    expect(shouldNotify({ when: ['every_failure'] }, 'failing', 'b')).toBe(true);
    expect(shouldNotify({ when: ['every_failure'] }, 'still_failing', 'b')).toBe(true);
    expect(shouldNotify({ when: ['every_failure'] }, 'recovered', 'b')).toBe(false);
    for (const t of ['failing', 'still_failing', 'recovered', 'still_passing'] as const) {
      expect(shouldNotify({ when: ['finished'] }, t, 'b')).toBe(true);
    }
    expect(shouldNotify({ when: ['finished'] }, null, 'b')).toBe(false);
  });

  it('keeps to its builders', () => {
    expect(shouldNotify({ when: ['failing'], builders: ['a'] }, 'failing', 'a')).toBe(true);
    expect(shouldNotify({ when: ['failing'], builders: ['a'] }, 'failing', 'b')).toBe(false);
  });
});
