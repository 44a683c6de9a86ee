/**
 * The build page's decisions, kept pure: which step's log to open, how a
 * command reads, which properties a rebuild passes on.
 */
import type { StepJson } from '../api/client.js';

/** Results that make a step "failed" for picking the log to open. */
const FAILED = new Set(['FAILURE', 'EXCEPTION']);

/** The step whose log opens by default: the first failed one, else the running one, else the last one that ran. */
export function defaultStep(steps: readonly StepJson[]): StepJson | undefined {
  return (
    steps.find((step) => step.result !== null && FAILED.has(step.result)) ??
    steps.find((step) => step.state === 'running') ??
    [...steps].reverse().find((step) => step.started_at !== null) ??
    steps[steps.length - 1]
  );
}

/** The step the URL names (by name, else by index), or the default one. */
export function pickStep(steps: readonly StepJson[], name: string | undefined): StepJson | undefined {
  if (name === undefined) return defaultStep(steps);
  return steps.find((step) => step.name === name) ?? (/^\d+$/.test(name) ? steps.find((step) => step.index === Number(name)) : undefined);
}

/** A command as it was run: a shell string, or argv joined with spaces (quoted where needed). */
export function commandText(command: string | readonly string[] | null): string {
  if (command === null) return '';
  if (typeof command === 'string') return command;
  return command.map((arg) => (arg === '' || /[\s'"\\$`]/.test(arg) ? `'${arg.replaceAll("'", `'\\''`)}'` : arg)).join(' ');
}

/** The first 10 characters of a revision. */
export function shortRevision(revision: string): string {
  return revision.length > 12 ? revision.slice(0, 10) : revision;
}

/** A commit message's first line. */
export function firstLine(message: string): string {
  const line = message.split('\n', 1)[0] ?? '';
  return line.trim();
}
