/**
 * A build or step result as a badge: colour, an icon and the word, so colour
 * is never the only carrier of the result.
 */
type ResultName = 'SUCCESS' | 'WARNINGS' | 'FAILURE' | 'SKIPPED' | 'EXCEPTION' | 'RETRY' | 'CANCELLED';

const ICONS: Record<ResultName | 'RUNNING' | 'PENDING', string> = {
  SUCCESS: '✔',
  WARNINGS: '⚠',
  FAILURE: '✖',
  SKIPPED: '↷',
  EXCEPTION: '‼',
  RETRY: '↻',
  CANCELLED: '⊘',
  RUNNING: '◷',
  PENDING: '…',
};

/** The CSS class and label of a result, or of a build/step still running or pending. */
export function resultLook(result: string | null | undefined, state?: string): { key: string; icon: string; label: string } {
  if (result) {
    const key = result as ResultName;
    return { key: key.toLowerCase(), icon: ICONS[key] ?? '?', label: result.toLowerCase() };
  }
  if (state === 'running') return { key: 'running', icon: ICONS.RUNNING, label: 'running' };
  return { key: 'pending', icon: ICONS.PENDING, label: state ?? 'pending' };
}

/** A result badge: icon and word on the result's colour. */
export function ResultBadge({ result, state, compact = false }: { result: string | null | undefined; state?: string; compact?: boolean }) {
  const look = resultLook(result, state);
  return (
    <span className={`result result-${look.key}${compact ? ' result-compact' : ''}`} title={look.label}>
      <span aria-hidden="true">{look.icon}</span>
      {compact ? <span className="sr-only">{look.label}</span> : <span> {look.label}</span>}
    </span>
  );
}
