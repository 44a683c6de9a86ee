/**
 * The farm simulator: a discrete-event model of a build farm driven through
 * weeks of simulated time, asking the master's REAL decision functions
 * (`fleetState`, `decideAlerts`/`nextDecisionAt` with an in-memory ledger
 * like the store's, `platformCoverage`, `orphanBuilders`, `healthFlags`,
 * `suspectWorkers`) what to report, and checking each injected fault was
 * reported in time to the right people while the noise raised nothing.
 *
 * The model: commits arrive about every 20 minutes and each queues about a
 * tenth of the builders; a build goes to a random live worker of its
 * builder (capacity is not modelled) and takes 10 to 40 minutes; a counted
 * failure is rebuilt once on another worker (as a developer's "rebuild"
 * would be), which is what lets a broken machine be told from broken code.
 * A worker that disconnects ends its builds as RETRY and they are queued
 * again. Fleet decisions run on every worker event and at the fleet's own
 * next decision time, as the service does; health, suspects and coverage
 * run every `decisionInterval` and on worker events.
 */
import type { Millis, Result } from '../../domain.js';
import { outcomeOf } from '../../notify/decide.js';
import { workerMatchesBuilder } from '../../scheduling/match.js';
import { answersForChanges, healthFlags, type HealthBuild } from '../builder-health.js';
import { orphanBuilders, platformCoverage, uncoverableBuilders } from '../coverage.js';
import { decideAlerts, nextDecisionAt, recipients, type EscalationSettings } from '../missing-workers.js';
import { fleetState } from '../presence.js';
import { suspectWorkers, type WorkerBuild } from '../suspect-workers.js';
import type { FleetState, FleetWorker, SentAlert } from '../types.js';
import { EventQueue } from './event-queue.js';
import { HOUR, MINUTE, type FarmBuilder, type FarmWorker } from './farm.js';
import { createPrng } from './prng.js';
import { HOME_PAGE, type Injection, type Scenario, type SimAlertKind } from './scenario.js';

/** One alert raised in the simulation (a fleet mail, or a flag for the digest and home page). */
export interface SimAlert {
  at: Millis;
  kind: SimAlertKind;
  /** The worker, builder or platform it is about. */
  subject: string;
  /** For reminders, the n-th; 0 otherwise. */
  sequence: number;
  to: string[];
  detail: string;
  /** The fault it is explained by, or null: raised by noise (a false alarm). */
  fault: string | null;
}

/** Whether and when one expectation of a fault was met. */
export interface ExpectationResult {
  fault: string;
  what: string;
  subject: string;
  injectedAt: Millis;
  detectedAt: Millis | null;
  /** detectedAt - injectedAt. */
  delay: Millis | null;
  within: Millis;
  told: string[];
  expectedTo: string[];
  ok: boolean;
}

/** What a simulation found. */
export interface SimulationReport {
  seed: number;
  start: Millis;
  duration: Millis;
  farm: { workers: number; builders: number; platforms: number; uncoverable: string[] };
  stats: { revisions: number; builds: number; fleetRuns: number; healthRuns: number };
  results: ExpectationResult[];
  /** Every alert raised, in time order. */
  alerts: SimAlert[];
  /** Alerts no fault explains: must be empty. */
  noiseAlerts: SimAlert[];
  noise: { name: string; injections: number }[];
}

interface SimWorker {
  config: FarmWorker;
  connected: boolean;
  paused: boolean;
  disconnectedAt: Millis | null;
  brokenFrom: Millis | null;
  flakes: Millis[];
  running: Set<number>;
}

interface Request {
  builder: string;
  revision: string;
  isTry: boolean;
  rebuild: boolean;
  exclude: string | null;
}

interface Running extends Request {
  id: number;
  worker: string;
  startedAt: Millis;
}

interface SimBuilder {
  config: FarmBuilder;
  builds: HealthBuild[];
  changes: Millis[];
  queue: Request[];
  red: { from: Millis; until: Millis }[];
}

type Event =
  | { type: 'revision'; builders: string[] | null }
  | { type: 'finished'; id: number }
  | { type: 'tick' }
  | { type: 'fleet-wake'; generation: number }
  | { type: 'inject'; injection: Injection };

const LIVE: ReadonlySet<FleetState> = new Set(['building', 'idle', 'offline']);

/** Runs `scenario` with `seed` (the noise of builds and results) and returns what was found. */
export function simulate(scenario: Scenario, seed: number): SimulationReport {
  const { farm, start } = scenario;
  const s = farm.settings;
  const end = start + scenario.duration;
  const prng = createPrng(seed);
  const escalation: EscalationSettings = { remindEvery: s.remindEvery, orphanAfter: s.orphanAfter, announce: [...s.announce] };
  const announce = recipients(s.announce);

  const workers = new Map<string, SimWorker>(
    farm.workers.map((config) => [config.name, { config, connected: true, paused: false, disconnectedAt: null, brokenFrom: null, flakes: [], running: new Set() }]),
  );
  const builders = new Map<string, SimBuilder>(farm.builders.map((config) => [config.name, { config, builds: [], changes: [], queue: [], red: [] }]));
  // Selectors never change: which workers serve which builder is worked out once.
  const servedBy = new Map<string, SimWorker[]>(
    farm.builders.map((b) => [b.name, [...workers.values()].filter((w) => workerMatchesBuilder(b.workers, w.config.name, w.config.dimensions))]),
  );
  const serves = new Map<string, SimBuilder[]>(
    farm.workers.map((w) => [w.name, [...builders.values()].filter((b) => servedBy.get(b.config.name)!.some((x) => x.config.name === w.name))]),
  );
  const revisionAt = new Map<string, Millis>();
  const running = new Map<number, Running>();
  // The builds within the suspect window, each one's builder and revision, and how many failures each of those has.
  const recent: WorkerBuild[] = [];
  const recentKeys: string[] = [];
  const failures = new Map<string, number>();
  const ledger = new Map<string, SentAlert[]>(farm.workers.map((w) => [w.name, []]));
  const active = new Map<string, Millis>();
  const alerts: SimAlert[] = [];
  const queue = new EventQueue<Event>();
  const stats = { revisions: 0, builds: 0, fleetRuns: 0, healthRuns: 0 };
  let nextBuildId = 1;
  let fleetGeneration = 0;

  const owner = new Map<string, string>();
  for (const fault of scenario.faults) for (const subject of fault.subjects) owner.set(subject, fault.name);
  const raise = (at: Millis, kind: SimAlertKind, subject: string, sequence: number, to: string[], detail: string) =>
    alerts.push({ at, kind, subject, sequence, to, detail, fault: owner.get(subject) ?? null });

  // ---- builds ----------------------------------------------------------------

  const liveFor = (builder: FarmBuilder, exclude: string | null) =>
    servedBy.get(builder.name)!.filter((w) => w.connected && !w.paused && w.config.name !== exclude);

  function dispatch(request: Request, now: Millis): void {
    const builder = builders.get(request.builder)!;
    const candidates = liveFor(builder.config, request.exclude);
    if (candidates.length === 0) {
      if (!request.rebuild) builder.queue.push(request);
      return;
    }
    const worker = prng.pick(candidates);
    const id = nextBuildId++;
    running.set(id, { ...request, id, worker: worker.config.name, startedAt: now });
    worker.running.add(id);
    queue.push(now + prng.int(10 * MINUTE, 40 * MINUTE), { type: 'finished', id });
  }

  function drain(worker: SimWorker, now: Millis): void {
    for (const builder of serves.get(worker.config.name)!) {
      if (builder.queue.length === 0) continue;
      const waiting = builder.queue.splice(0);
      for (const request of waiting) dispatch(request, now);
    }
  }

  function resultOf(build: Running, worker: SimWorker, now: Millis): Result {
    if (build.isTry) return prng.next() < 0.5 ? 'SUCCESS' : 'FAILURE';
    if (prng.next() < 0.01) return 'CANCELLED';
    const at = revisionAt.get(build.revision)!;
    if (builders.get(build.builder)!.red.some((r) => at >= r.from && at < r.until)) return 'FAILURE';
    if (worker.brokenFrom !== null && build.startedAt >= worker.brokenFrom) return 'FAILURE';
    const flake = worker.flakes.findIndex((t) => t <= build.startedAt);
    if (flake >= 0) {
      worker.flakes.splice(flake, 1);
      return 'FAILURE';
    }
    return prng.next() < 0.05 ? 'WARNINGS' : 'SUCCESS';
  }

  function record(build: Running, result: Result, now: Millis): void {
    stats.builds++;
    const builder = builders.get(build.builder)!;
    // Health looks back no further than the latest counted pass, and no change before the latest build answering for it still waits: drop the rest.
    const finishedBuild: HealthBuild = { result, startedAt: build.startedAt, finishedAt: now, isTry: build.isTry };
    if (!build.isTry && outcomeOf(result) === 'passing') builder.builds.length = 0;
    if (answersForChanges(finishedBuild)) builder.changes.length = 0;
    builder.builds.push(finishedBuild);
    if (!build.isTry) {
      const key = `${build.builder}\u0000${build.revision}`;
      recent.push({ builder: build.builder, worker: build.worker, revision: build.revision, result, finishedAt: now });
      recentKeys.push(key);
      if (outcomeOf(result) === 'failing') failures.set(key, (failures.get(key) ?? 0) + 1);
    }
  }

  function finished(id: number, now: Millis): void {
    const build = running.get(id);
    if (!build) return; // ended as RETRY when its worker went away
    running.delete(id);
    const worker = workers.get(build.worker)!;
    worker.running.delete(id);
    const result = resultOf(build, worker, now);
    record(build, result, now);
    if (!build.isTry && !build.rebuild && outcomeOf(result) === 'failing') {
      dispatch({ builder: build.builder, revision: build.revision, isTry: false, rebuild: true, exclude: build.worker }, now);
    }
  }

  function revision(only: string[] | null, now: Millis): void {
    const name = `r${++stats.revisions}`;
    revisionAt.set(name, now);
    const chosen = only ?? farm.builders.filter(() => prng.next() < 0.1).map((b) => b.name);
    for (const b of chosen) {
      // A try build tests someone's patch: it is not a change the builder owes a build for.
      const isTry = only === null && prng.next() < 0.03;
      if (!isTry) builders.get(b)!.changes.push(now);
      dispatch({ builder: b, revision: name, isTry, rebuild: false, exclude: null }, now);
    }
  }

  // ---- decisions -------------------------------------------------------------

  const fleetWorker = (w: SimWorker): FleetWorker => ({
    name: w.config.name,
    admins: [...w.config.admins],
    dimensions: { ...w.config.dimensions },
    connected: w.connected,
    building: w.running.size > 0,
    paused: w.paused,
    disconnectedAt: w.connected ? null : w.disconnectedAt,
    missingAfter: w.config.missingAfter ?? s.missingAfter,
  });

  /** Raises `key` once while it holds; `holding` is every key that holds now (of this family). */
  function flag(family: string, holding: Map<string, () => void>): void {
    for (const key of [...active.keys()]) if (key.startsWith(`${family}:`) && !holding.has(key)) active.delete(key);
    for (const [key, raiseIt] of holding) {
      if (active.has(key)) continue;
      active.set(key, 0);
      raiseIt();
    }
  }

  function decideFleet(now: Millis): void {
    stats.fleetRuns++;
    let wake: Millis | null = null;
    const states = new Map<string, FleetState>();
    for (const w of workers.values()) {
      const fw = fleetWorker(w);
      states.set(fw.name, fleetState(fw, now, escalation));
      const sent = ledger.get(fw.name)!;
      for (const alert of decideAlerts(fw, sent, now, escalation)) {
        sent.push({ ...alert, sentAt: now });
        raise(now, alert.kind, alert.worker, alert.sequence, alert.to, `episode from ${new Date(alert.episode).toISOString()}`);
      }
      const at = nextDecisionAt(fw, sent, now, escalation);
      if (at !== null) wake = wake === null ? at : Math.min(wake, at);
    }
    const generation = ++fleetGeneration;
    if (wake !== null) queue.push(wake, { type: 'fleet-wake', generation });

    // A platform counts a worker until it is missing: a short disconnect is not a shortage.
    const coverageWorkers = farm.workers.map((w) => ({ name: w.name, dimensions: w.dimensions, live: LIVE.has(states.get(w.name)!) }));
    const coverage = platformCoverage(farm.platforms, coverageWorkers, farm.builders);
    const short = new Map<string, () => void>();
    for (const p of coverage.filter((c) => c.short)) {
      short.set(`short:${p.name}`, () => raise(now, 'platform_short', p.name, 0, announce, `tier ${p.tier}: ${p.live.length} live of ${p.redundancy} wanted`));
    }
    flag('short', short);
    const unserved = new Map<string, () => void>();
    for (const b of orphanBuilders(farm.builders, coverageWorkers)) {
      unserved.set(`unserved:${b}`, () => raise(now, 'no_live_worker', b, 0, announce, 'every worker of this builder is missing, orphaned or paused'));
    }
    flag('unserved', unserved);
  }

  function decideHealth(now: Millis): void {
    stats.healthRuns++;
    const thresholds = { redFor: s.redFor, staleAfter: s.staleAfter };
    const health = new Map<string, () => void>();
    for (const b of builders.values()) {
      for (const f of healthFlags({ name: b.config.name, builds: b.builds, changes: b.changes }, now, thresholds)) {
        const detail = f.kind === 'red_for_long' ? `${f.count} failing builds since ${new Date(f.since).toISOString()}` : `a change waits since ${new Date(f.since).toISOString()}`;
        health.set(`health:${f.kind}:${f.builder}:${f.since}`, () => raise(now, f.kind, f.builder, 0, [...announce, HOME_PAGE], detail));
      }
    }
    flag('health', health);

    while (recent.length > 0 && recent[0]!.finishedAt < now - s.suspectWindow) {
      const old = recent.shift()!;
      const key = recentKeys.shift()!;
      if (outcomeOf(old.result) !== 'failing') continue;
      const left = failures.get(key)! - 1;
      if (left === 0) failures.delete(key);
      else failures.set(key, left);
    }
    // Only revisions someone failed can be evidence: the rest is left out for speed (the answer is the same).
    const evidence = recent.filter((_, i) => failures.has(recentKeys[i]!));
    const suspects = new Map<string, () => void>();
    for (const suspect of suspectWorkers(evidence, now, { window: s.suspectWindow, threshold: s.suspectThreshold })) {
      const w = workers.get(suspect.worker)!;
      const first = suspect.evidence[0]!;
      suspects.set(`suspect:${suspect.worker}`, () =>
        raise(now, 'suspect', suspect.worker, 0, recipients(w.config.admins), `${suspect.count} failures where peers passed, e.g. ${first.builder} ${first.revision} passed on ${first.passedOn}`),
      );
    }
    flag('suspect', suspects);
  }

  // ---- the farm's life ----------------------------------------------------------

  function inject(injection: Injection, now: Millis): void {
    if (injection.kind === 'restart') {
      fleetGeneration++; // the timer is lost with the process
      decideFleet(now);
      return;
    }
    if (injection.kind === 'break_builder') {
      builders.get(injection.builder)!.red.push({ from: start + injection.at, until: start + injection.until });
      revision([injection.builder], now);
      queue.push(start + injection.until, { type: 'revision', builders: [injection.builder] });
      return;
    }
    const w = workers.get(injection.worker)!;
    switch (injection.kind) {
      case 'break_worker':
        w.brokenFrom = now;
        return;
      case 'flake':
        w.flakes.push(now);
        return;
      case 'disconnect': {
        if (!w.connected) return;
        w.connected = false;
        w.disconnectedAt = now;
        for (const id of [...w.running]) {
          const build = running.get(id)!;
          running.delete(id);
          record(build, 'RETRY', now);
          dispatch({ builder: build.builder, revision: build.revision, isTry: build.isTry, rebuild: build.rebuild, exclude: null }, now);
        }
        w.running.clear();
        break;
      }
      case 'connect':
        if (w.connected) return;
        w.connected = true;
        w.disconnectedAt = null;
        drain(w, now);
        break;
      case 'pause':
        w.paused = true;
        break;
      case 'resume':
        w.paused = false;
        drain(w, now);
        break;
    }
    decideFleet(now);
    decideHealth(now);
  }

  for (const injection of [...scenario.faults.flatMap((f) => f.injections), ...scenario.noise.flatMap((n) => n.injections)]) {
    queue.push(start + injection.at, { type: 'inject', injection });
  }
  for (let t = start; t <= end; t += s.decisionInterval) queue.push(t, { type: 'tick' });
  queue.push(start + prng.exponential(20 * MINUTE), { type: 'revision', builders: null });

  for (let next = queue.pop(); next && next.at <= end; next = queue.pop()) {
    const { at: now, event } = next;
    switch (event.type) {
      case 'revision':
        revision(event.builders, now);
        if (event.builders === null) queue.push(now + Math.max(MINUTE, prng.exponential(20 * MINUTE)), event);
        break;
      case 'finished':
        finished(event.id, now);
        break;
      case 'tick':
        if (now === start) decideFleet(now);
        decideHealth(now);
        break;
      case 'fleet-wake':
        if (event.generation === fleetGeneration) decideFleet(now);
        break;
      case 'inject':
        inject(event.injection, now);
        break;
    }
  }

  const results: ExpectationResult[] = scenario.faults.flatMap((fault) =>
    fault.expect.map((e): ExpectationResult => {
      const injectedAt = start + fault.injectedAt;
      const hit = alerts.find((a) => a.kind === e.kind && a.subject === e.subject && (e.sequence === undefined || a.sequence === e.sequence) && a.at >= injectedAt);
      const delay = hit ? hit.at - injectedAt : null;
      const told = hit ? hit.to : [];
      const sameRecipients = told.length === e.to.length && e.to.every((t) => told.includes(t));
      return { fault: fault.name, what: e.what, subject: e.subject, injectedAt, detectedAt: hit?.at ?? null, delay, within: e.within, told, expectedTo: e.to, ok: delay !== null && delay <= e.within && sameRecipients };
    }),
  );

  return {
    seed,
    start,
    duration: scenario.duration,
    farm: { workers: farm.workers.length, builders: farm.builders.length, platforms: farm.platforms.length, uncoverable: uncoverableBuilders(farm.builders, farm.workers) },
    stats,
    results,
    alerts,
    noiseAlerts: alerts.filter((a) => a.fault === null),
    noise: scenario.noise.map((n) => ({ name: n.name, injections: n.injections.length })),
  };
}

/** How long `ms` is, for people: "1h 00m", "14d 0h 20m". */
export function formatDuration(ms: Millis): string {
  const minutes = Math.round(ms / MINUTE);
  const d = Math.floor(minutes / (24 * 60));
  const h = Math.floor((minutes % (24 * 60)) / 60);
  const m = String(minutes % 60).padStart(2, '0');
  return d > 0 ? `${d}d ${h}h ${m}m` : `${h}h ${m}m`;
}

/** Day and time of a moment in the simulation: "d15 08:00". */
export function formatMoment(at: Millis, start: Millis): string {
  const day = Math.floor((at - start) / (24 * HOUR));
  return `d${day} ${new Date(at).toISOString().slice(11, 16)}`;
}
