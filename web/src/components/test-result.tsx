/**
 * A test's outcome as a badge (icon and word, like a step's result) and its
 * flaky / re-run / quarantined marks.
 */
import type { TestResultJson } from '../api/client.js';
import { testBadges } from '../pages/tests-view.js';

const LOOK: Record<TestResultJson['result'], { key: string; icon: string }> = {
  failed: { key: 'failure', icon: '✖' },
  error: { key: 'exception', icon: '‼' },
  skipped: { key: 'skipped', icon: '↷' },
  passed: { key: 'success', icon: '✔' },
};

/** `✖ failed`, `‼ error`, `↷ skipped`, `✔ passed`. */
export function TestResultBadge({ result }: { result: TestResultJson['result'] }) {
  const look = LOOK[result];
  return (
    <span className={`result result-${look.key}`} title={result}>
      <span aria-hidden="true">{look.icon}</span> {result}
    </span>
  );
}

/** The marks a result carries; `without` leaves one out (the history has a column for flaky). */
export function TestBadges({ result, without }: { result: Pick<TestResultJson, 'flaky' | 'rerun' | 'quarantined'>; without?: 'flaky' }) {
  const badges = testBadges(result).filter((b) => b.key !== without);
  if (badges.length === 0) return null;
  return (
    <span className="test-badges">
      {badges.map((badge) => (
        <span key={badge.key} className={`test-badge test-badge-${badge.key}`} title={badge.title}>
          {badge.label}
        </span>
      ))}
    </span>
  );
}
