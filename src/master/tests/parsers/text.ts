/**
 * Text helpers the parsers share: long tracebacks keep their head (what was
 * being tested) and their tail (the assertion), and terminal colour codes
 * and carriage returns are removed before any line is matched.
 */

/** How much of a long message is kept at each end, in characters. */
export const MESSAGE_KEEP = 4096;

/**
 * A message cut to its first and last `keep` characters with a marker saying
 * how much was left out between them: the head says what ran, the tail
 * holds the exception, and neither is worth a 10 MB row.
 */
export function truncateMessage(text: string | null | undefined, keep = MESSAGE_KEEP): string | null {
  if (text === null || text === undefined) return null;
  const trimmed = text.replace(/\s+$/, '');
  if (trimmed === '') return null;
  if (trimmed.length <= 2 * keep + 100) return trimmed;
  const cut = trimmed.length - 2 * keep;
  return `${trimmed.slice(0, keep)}\n[... ${cut} characters cut ...]\n${trimmed.slice(-keep)}`;
}

// CSI sequences (colours, cursor moves) and OSC sequences (titles, links).
// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

/** The lines of a log as people read them: no colour codes, no carriage returns. */
export function logLines(text: string): string[] {
  return text.replace(ANSI_RE, '').replace(/\r\n?/g, '\n').split('\n');
}

/** Milliseconds from a number of seconds in text ("0.003"), or null. */
export function secondsToMs(text: string | undefined | null): number | null {
  if (text === undefined || text === null || text.trim() === '') return null;
  const seconds = Number(text.replace(/,/g, ''));
  return Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : null;
}
