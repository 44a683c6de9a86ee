/**
 * The decisions of a `nightly` scheduler: when it next fires (croner reads
 * the cron expression in the configured time zone; croner only computes
 * times here, the timers run on the master's Clock) and whether a due night
 * queues anything.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import type { SchedulerConfig } from '../config/schema.js';
import type { Change, Millis } from '../domain.js';

/** A nightly trigger as configured (defaults applied). */
export type NightlyConfig = NonNullable<SchedulerConfig['nightly']>;

/** What a nightly scheduler remembers between runs (saved with setSchedulerState). */
export interface NightlyState {
  /** The newest change of the branch when it last queued builds (null: none known then). */
  lastChangeId: number | null;
  /** When it last queued builds. */
  lastRunAt: Millis | null;
}

/**
 * Checks the cron expression (five fields) and the time zone; returns a
 * problem to report, or undefined. The config schema only checks the shape,
 * so the master calls this at start-up to refuse a bad timetable early.
 */
export function nightlyProblem(nightly: Pick<NightlyConfig, 'cron' | 'timezone'>): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: nightly.timezone });
  } catch {
    return `unknown time zone "${nightly.timezone}": expected an IANA name like "UTC" or "Europe/Berlin"`;
  }
  try {
    const cron = compile(nightly);
    if (cron.nextRun(new Date(0)) === null) return `cron "${nightly.cron}" never fires`;
  } catch (error) {
    return `invalid cron "${nightly.cron}": ${(error as Error).message}`;
  }
  return undefined;
}

/** The first fire time strictly after `after`, or null when the expression never fires again. */
export function nextFireTime(nightly: Pick<NightlyConfig, 'cron' | 'timezone'>, after: Millis): Millis | null {
  return compile(nightly).nextRun(new Date(after))?.getTime() ?? null;
}

function compile(nightly: Pick<NightlyConfig, 'cron' | 'timezone'>): Cron {
  return new Cron(nightly.cron, { timezone: nightly.timezone, paused: true, mode: '5-part' });
}

/**
 * Whether a due night queues builds. Without `only_if_changed` it always
 * does; with it, only when the branch's newest change is newer than the one
 * last built (no change ever recorded on the branch: nothing to build).
 */
export function shouldQueueNightly(onlyIfChanged: boolean, state: NightlyState, latest: Pick<Change, 'id'> | undefined): boolean {
  if (!onlyIfChanged) return true;
  if (latest === undefined) return false;
  return state.lastChangeId === null || latest.id > state.lastChangeId;
}

const SavedNightly = z.object({ lastChangeId: z.number().int().nullable(), lastRunAt: z.number().nullable() });

/** Reads saved nightly state; anything else (never run, another shape) reads as never run. */
export function nightlyFromState(state: Record<string, unknown> | undefined): NightlyState {
  const parsed = SavedNightly.safeParse(state);
  return parsed.success ? parsed.data : { lastChangeId: null, lastRunAt: null };
}
