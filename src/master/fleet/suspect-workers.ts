/**
 * Suspect workers: a worker whose builds fail where other workers of the
 * same builder pass on the same revision is likely a broken machine, not
 * broken code. Pure: the caller passes the finished builds it knows (try
 * builds left out) and an injected `now`.
 */
import type { Millis, Result } from '../domain.js';
import { outcomeOf } from '../notify/decide.js';

/** A finished, non-try build as suspicion sees it. */
export interface WorkerBuild {
  builder: string;
  worker: string;
  revision: string;
  result: Result | null;
  finishedAt: Millis;
}

/** One case against a worker: it failed this revision, a peer passed it. */
export interface SuspectEvidence {
  builder: string;
  revision: string;
  /** When the worker's (latest) failing build of this revision finished. */
  failedAt: Millis;
  /** A peer (another worker of the builder) that passed the same revision. */
  passedOn: string;
}

/** A worker flagged as suspect, with the cases against it (oldest first). */
export interface SuspectWorker {
  worker: string;
  count: number;
  evidence: SuspectEvidence[];
  /** The oldest failure still counted: the suspicion's start within the window. */
  since: Millis;
}

/** How much evidence makes a worker suspect. */
export interface SuspectSettings {
  /** Only failures that finished within this long before `now` count. */
  window: Millis;
  /** Cases needed (each builder and revision counts once, however often it failed). */
  threshold: number;
}

/**
 * Workers with at least `threshold` cases in the window: a (builder,
 * revision) the worker failed (FAILURE or EXCEPTION) and another worker
 * passed (SUCCESS or WARNINGS; the pass may be older than the window).
 * Revisions nobody passed are the code's fault and say nothing about the
 * machine. Most cases first, then by name.
 */
export function suspectWorkers(builds: readonly WorkerBuild[], now: Millis, settings: SuspectSettings): SuspectWorker[] {
  // Per builder and revision: who passed it, and each worker's latest failure in the window.
  const byRevision = new Map<string, { builder: string; revision: string; passed: string[]; failed: Map<string, Millis> }>();
  for (const build of builds) {
    if (build.finishedAt > now) continue;
    const outcome = outcomeOf(build.result);
    if (outcome === null) continue;
    const key = `${build.builder}\u0000${build.revision}`;
    let entry = byRevision.get(key);
    if (!entry) byRevision.set(key, (entry = { builder: build.builder, revision: build.revision, passed: [], failed: new Map() }));
    if (outcome === 'passing') {
      if (!entry.passed.includes(build.worker)) entry.passed.push(build.worker);
    } else if (now - build.finishedAt <= settings.window) {
      entry.failed.set(build.worker, Math.max(entry.failed.get(build.worker) ?? build.finishedAt, build.finishedAt));
    }
  }

  const cases = new Map<string, SuspectEvidence[]>();
  for (const entry of byRevision.values()) {
    for (const [worker, failedAt] of entry.failed) {
      const peer = entry.passed.find((w) => w !== worker);
      if (peer === undefined) continue;
      cases.set(worker, [...(cases.get(worker) ?? []), { builder: entry.builder, revision: entry.revision, failedAt, passedOn: peer }]);
    }
  }

  const suspects: SuspectWorker[] = [];
  for (const [worker, evidence] of cases) {
    if (evidence.length < settings.threshold) continue;
    evidence.sort((a, b) => a.failedAt - b.failedAt || a.builder.localeCompare(b.builder) || a.revision.localeCompare(b.revision));
    suspects.push({ worker, count: evidence.length, evidence, since: evidence[0]!.failedAt });
  }
  return suspects.sort((a, b) => b.count - a.count || a.worker.localeCompare(b.worker));
}
