/**
 * What happens to the simulated farm: the faults Shepherd must report (each
 * with what it must say, to whom, and how soon) and the healthy noise it
 * must not report. Times are offsets from the simulation's start.
 */
import type { Millis } from '../../domain.js';
import { recipients } from '../missing-workers.js';
import type { AlertKind } from '../types.js';
import { DAY, HOUR, MINUTE, WEEK, type Farm } from './farm.js';
import { createPrng } from './prng.js';

/** One thing done to the farm at a moment. */
export type Injection =
  /** The worker's connection drops (it died, or its admin powered it off). */
  | { kind: 'disconnect'; worker: string; at: Millis }
  | { kind: 'connect'; worker: string; at: Millis }
  | { kind: 'pause'; worker: string; at: Millis }
  | { kind: 'resume'; worker: string; at: Millis }
  /** A commit breaks the builder at `at` and one fixes it at `until`: revisions in between fail on every worker. */
  | { kind: 'break_builder'; builder: string; at: Millis; until: Millis }
  /** The machine breaks: every build it runs from `at` fails. */
  | { kind: 'break_worker'; worker: string; at: Millis }
  /** The first build finishing on the worker after `at` fails once (a flaky test). */
  | { kind: 'flake'; worker: string; at: Millis }
  /** The master restarts: its timers are lost, its decisions run again from the stored ledger. */
  | { kind: 'restart'; at: Millis };

/** Every alert the simulator records: the fleet's mails plus the health and coverage flags. */
export type SimAlertKind = AlertKind | 'platform_short' | 'no_live_worker' | 'red_for_long' | 'stale' | 'suspect';

/** Something a fault must cause: the first alert of `kind` about `subject` (and `sequence`, for reminders). */
export interface Expectation {
  what: string;
  kind: SimAlertKind;
  subject: string;
  sequence?: number;
  /** Longest acceptable delay from the fault's injection. */
  within: Millis;
  /** Exactly these recipients. */
  to: string[];
}

/** An injected fault, what it must cause, and the subjects (workers, builders, platforms) whose alerts it explains. */
export interface Fault {
  name: string;
  injectedAt: Millis;
  subjects: string[];
  injections: Injection[];
  expect: Expectation[];
}

/** Healthy noise: the farm's ordinary life, which must raise nothing. */
export interface Noise {
  name: string;
  injections: Injection[];
}

/** A farm and what happens to it over `duration`. */
export interface Scenario {
  farm: Farm;
  start: Millis;
  duration: Millis;
  faults: Fault[];
  noise: Noise[];
}

/** Where builder health flags go: the weekly digest (to the announce list) and the home page. */
export const HOME_PAGE = 'home page';

/**
 * The standard scenario on `farm` over six weeks from Monday 2026-01-05:
 * a worker dying silently, an admin who never answers (a worker with its
 * own 30-minute `missing_after`), a builder red for two weeks, the tier-1
 * FreeBSD platform losing its last worker, a broken arm64 machine, and a
 * worker that dies and is repaired; with short disconnects, flaky
 * failures, a weekend pause and master restarts as noise.
 */
export function standardScenario(base: Farm, seed: number): Scenario {
  const prng = createPrng(seed ^ 0xfa17);
  const farm: Farm = { ...base, workers: base.workers.map((w) => ({ ...w, admins: [...w.admins] })) };
  const s = farm.settings;
  const worker = (name: string) => {
    const w = farm.workers.find((x) => x.name === name);
    if (!w) throw new Error(`the farm has no worker ${name}`);
    return w;
  };
  const admins = (name: string) => recipients(worker(name).admins);
  const announce = recipients(s.announce);
  const digest = [...announce, HOME_PAGE];
  const tick = s.decisionInterval;

  const silent = 'linux-x86_64-07';
  const unanswered = 'macos-arm64-03';
  Object.assign(worker(unanswered), { missingAfter: 30 * MINUTE, admins: ['Grace Hopper <grace@example.org>', 'Alan Turing <alan@example.org>'] });
  const redBuilder = 'build-linux-x86_64-12';
  const bsd = farm.workers.filter((w) => w.platform === 'freebsd-x86_64').map((w) => w.name);
  const bsdBuilders = farm.builders.filter((b) => b.platform === 'freebsd-x86_64').map((b) => b.name);
  const [retired, lastBsd] = [bsd[0]!, bsd[1]!];
  const broken = 'linux-arm64-03';
  const repaired = 'windows-x86_64-05';
  const BUILD_MAX = 40 * MINUTE;

  const faults: Fault[] = [
    {
      name: 'worker dies silently',
      injectedAt: 2 * DAY + 10 * HOUR,
      subjects: [silent],
      injections: [{ kind: 'disconnect', worker: silent, at: 2 * DAY + 10 * HOUR }],
      expect: [
        { what: 'missing mail', kind: 'missing', subject: silent, within: s.missingAfter + tick, to: admins(silent) },
        { what: 'first reminder', kind: 'reminder', subject: silent, sequence: 1, within: s.missingAfter + s.remindEvery + tick, to: admins(silent) },
        { what: 'call for volunteers', kind: 'orphaned', subject: silent, within: s.orphanAfter + tick, to: announce },
      ],
    },
    {
      name: 'admin never answers',
      injectedAt: 9 * DAY + 14 * HOUR + 20 * MINUTE,
      subjects: [unanswered],
      injections: [{ kind: 'disconnect', worker: unanswered, at: 9 * DAY + 14 * HOUR + 20 * MINUTE }],
      expect: [
        { what: 'missing mail (own 30m)', kind: 'missing', subject: unanswered, within: 30 * MINUTE + tick, to: admins(unanswered) },
        { what: 'reminder 1', kind: 'reminder', subject: unanswered, sequence: 1, within: 30 * MINUTE + s.remindEvery + tick, to: admins(unanswered) },
        { what: 'reminder 13', kind: 'reminder', subject: unanswered, sequence: 13, within: 30 * MINUTE + 13 * s.remindEvery + tick, to: admins(unanswered) },
        { what: 'call for volunteers', kind: 'orphaned', subject: unanswered, within: s.orphanAfter + tick, to: announce },
      ],
    },
    {
      name: 'builder red for two weeks',
      injectedAt: 7 * DAY + 9 * HOUR,
      subjects: [redBuilder],
      injections: [{ kind: 'break_builder', builder: redBuilder, at: 7 * DAY + 9 * HOUR, until: 21 * DAY + 9 * HOUR }],
      expect: [{ what: 'red_for_long flag', kind: 'red_for_long', subject: redBuilder, within: s.redFor + BUILD_MAX + tick, to: digest }],
    },
    {
      name: 'tier-1 platform loses its last worker',
      injectedAt: 15 * DAY + 8 * HOUR,
      subjects: ['freebsd-x86_64', ...bsd, ...bsdBuilders],
      injections: [
        // Its other machine was retired (paused for good) by its admin earlier: no alert for that.
        { kind: 'pause', worker: retired, at: 3 * DAY },
        { kind: 'disconnect', worker: lastBsd, at: 15 * DAY + 8 * HOUR },
      ],
      expect: [
        { what: 'platform short', kind: 'platform_short', subject: 'freebsd-x86_64', within: s.missingAfter + tick, to: announce },
        { what: 'missing mail', kind: 'missing', subject: lastBsd, within: s.missingAfter + tick, to: admins(lastBsd) },
        ...bsdBuilders.slice(0, 1).map((b) => ({ what: `no live worker (${bsdBuilders.length} builders)`, kind: 'no_live_worker' as const, subject: b, within: s.missingAfter + tick, to: announce })),
        { what: 'call for volunteers', kind: 'orphaned', subject: lastBsd, within: s.orphanAfter + tick, to: announce },
      ],
    },
    {
      name: 'broken worker fails where peers pass',
      injectedAt: 12 * DAY + 6 * HOUR,
      subjects: [broken],
      injections: [{ kind: 'break_worker', worker: broken, at: 12 * DAY + 6 * HOUR }],
      expect: [{ what: 'suspect', kind: 'suspect', subject: broken, within: s.suspectWindow, to: admins(broken) }],
    },
    {
      name: 'worker dies, admin repairs it',
      injectedAt: 25 * DAY + 22 * HOUR,
      subjects: [repaired],
      injections: [
        { kind: 'disconnect', worker: repaired, at: 25 * DAY + 22 * HOUR },
        { kind: 'connect', worker: repaired, at: 27 * DAY + 10 * HOUR },
      ],
      expect: [
        { what: 'missing mail', kind: 'missing', subject: repaired, within: s.missingAfter + tick, to: admins(repaired) },
        { what: 'reminder 1', kind: 'reminder', subject: repaired, sequence: 1, within: s.missingAfter + s.remindEvery + tick, to: admins(repaired) },
        { what: 'recovered mail', kind: 'recovered', subject: repaired, within: 36 * HOUR + tick, to: admins(repaired) },
      ],
    },
  ];

  const duration = 6 * WEEK;
  const faulty = new Set(faults.flatMap((f) => f.subjects));
  const weekender = 'linux-x86_64-03';
  const healthy = farm.workers.map((w) => w.name).filter((n) => !faulty.has(n) && n !== weekender);
  const when = () => prng.int(HOUR, duration - 2 * HOUR);

  const disconnects: Injection[] = [];
  for (let i = 0; i < 40; i++) {
    const w = prng.pick(healthy);
    const at = when();
    const missingAfter = worker(w).missingAfter ?? s.missingAfter;
    disconnects.push({ kind: 'disconnect', worker: w, at }, { kind: 'connect', worker: w, at: at + prng.int(MINUTE, missingAfter - 10 * MINUTE) });
  }
  // Twelve different workers, so no one collects enough one-off failures to look suspect.
  const pool = [...healthy];
  const flakers = Array.from({ length: 12 }, () => pool.splice(prng.int(0, pool.length - 1), 1)[0]!);
  const noise: Noise[] = [
    { name: 'short disconnects (< missing_after)', injections: disconnects },
    { name: 'one-off failures (flaky tests)', injections: flakers.map((w) => ({ kind: 'flake' as const, worker: w, at: when() })) },
    {
      name: 'worker paused for a weekend (and powered off)',
      injections: [
        { kind: 'pause', worker: weekender, at: 4 * DAY + 18 * HOUR },
        { kind: 'disconnect', worker: weekender, at: 4 * DAY + 18 * HOUR + 5 * MINUTE },
        { kind: 'connect', worker: weekender, at: 7 * DAY + 7 * HOUR + 50 * MINUTE },
        { kind: 'resume', worker: weekender, at: 7 * DAY + 8 * HOUR },
      ],
    },
    { name: 'master restarts', injections: Array.from({ length: 4 }, () => ({ kind: 'restart' as const, at: when() })) },
  ];
  return { farm, start: Date.UTC(2026, 0, 5), duration, faults, noise };
}
